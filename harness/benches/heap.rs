//! The cost of exact heap accounting: alloc/free pairs through
//! `brunt::heap::CountingAllocator` (this binary's global allocator) against
//! the same pairs on the system allocator directly, in the same run,
//! interleaved. `cargo xtask bench` runs it (release) and reads the JSON it
//! prints: nanoseconds per pair for both, one thread and two.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: brunt::heap::CountingAllocator = brunt::heap::CountingAllocator::system();

const PAIRS: u64 = 5_000_000;
const ROUNDS: usize = 7;

/// Sizes cycled through, as a program's allocations vary.
const SIZES: [usize; 4] = [16, 64, 256, 1024];

fn counted(pairs: u64) {
    for i in 0..pairs {
        let layout = Layout::from_size_align(SIZES[(i % 4) as usize], 8).unwrap();
        // SAFETY: a non-zero size; freed with the same layout.
        unsafe {
            let p = std::alloc::alloc(layout);
            black_box(p);
            std::alloc::dealloc(p, layout);
        }
    }
}

fn system(pairs: u64) {
    for i in 0..pairs {
        let layout = Layout::from_size_align(SIZES[(i % 4) as usize], 8).unwrap();
        // SAFETY: as above, on the system allocator directly.
        unsafe {
            let p = System.alloc(layout);
            black_box(p);
            System.dealloc(p, layout);
        }
    }
}

/// Nanoseconds per pair of `f` on `threads` threads at once.
fn time(threads: usize, f: fn(u64)) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| f(PAIRS));
        }
    });
    start.elapsed().as_nanos() as f64 / PAIRS as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // libtest's flags (`--bench`) are accepted and ignored.
    let mut out = Vec::new();
    for threads in [1, 2] {
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            with.push(time(threads, counted));
            without.push(time(threads, system));
        }
        let (with, without) = (median(with), median(without));
        out.push(format!(
            "{{\"threads\":{threads},\"counted_ns\":{with:.3},\"system_ns\":{without:.3},\"overhead_ns\":{:.3}}}",
            with - without
        ));
    }
    assert!(brunt::heap::is_counting());
    println!("[{}]", out.join(","));
}
