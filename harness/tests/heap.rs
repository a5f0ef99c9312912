//! `brunt::heap::CountingAllocator` installed as this binary's global
//! allocator: counts are exact across threads, survive a thread's exit, and
//! count `realloc` as an allocation and a free.

use brunt::heap::{CountingAllocator, is_counting, stats};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator::system();

/// The counts are process-wide and libtest's own threads allocate while
/// tests run in parallel: the checks run one after the other, in one test.
#[test]
fn counting_is_exact() {
    a_held_block_is_live_and_a_freed_one_is_not();
    realloc_counts_an_allocation_and_a_free();
    counts_from_threads_that_exit_are_kept();
}

fn a_held_block_is_live_and_a_freed_one_is_not() {
    let before = stats();
    assert!(
        is_counting(),
        "this test binary installs brunt::heap::CountingAllocator"
    );
    let block = vec![1u8; 10 << 20];
    let held = stats();
    assert!(
        held.live_bytes >= before.live_bytes + (10 << 20),
        "{before:?} -> {held:?}"
    );
    drop(std::hint::black_box(block));
    let after = stats();
    assert!(
        after.allocated_bytes - before.allocated_bytes >= 10 << 20,
        "{} >= {}",
        after.allocated_bytes - before.allocated_bytes,
        10 << 20
    );
    assert!(
        after.freed_bytes - before.freed_bytes >= 10 << 20,
        "{} >= {}",
        after.freed_bytes - before.freed_bytes,
        10 << 20
    );
    // Only this test allocates now: what is live returned to where it was,
    // give or take the test harness's own small allocations.
    let drift = after.live_bytes as i64 - before.live_bytes as i64;
    assert!(drift.abs() < 64 << 10, "{drift} bytes");
}

fn counts_from_threads_that_exit_are_kept() {
    let before = stats();
    // More threads than slots over time: slots are given back and reused.
    for round in 0..4 {
        let handles: Vec<_> = (0..100)
            .map(|i| {
                std::thread::spawn(move || {
                    let kept: Vec<Box<[u8; 1024]>> = (0..10)
                        .map(|_| std::hint::black_box(Box::new([i as u8; 1024])))
                        .collect();
                    // Each thread leaks exactly one 4 KiB block on purpose
                    // (black_box: an unused allocation may be optimised out).
                    std::hint::black_box(Box::leak(vec![round as u8; 4096].into_boxed_slice()));
                    std::hint::black_box(kept).len()
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 10);
        }
    }
    let after = stats();
    let leaked = after.live_bytes as i64 - before.live_bytes as i64;
    assert!(
        (400 * 4096..400 * 4096 + (256 << 10)).contains(&leaked),
        "live grew by {leaked} bytes for 400 threads leaking 4 KiB each"
    );
    assert!(
        after.allocations - before.allocations >= 400 * 11,
        "{} >= {}",
        after.allocations - before.allocations,
        400 * 11
    );
}

fn realloc_counts_an_allocation_and_a_free() {
    let mut v: Vec<u8> = Vec::with_capacity(1000);
    let before = stats();
    v.reserve_exact(50_000);
    let after = stats();
    assert_eq!(after.allocations - before.allocations, 1);
    assert_eq!(after.frees - before.frees, 1);
    assert_eq!(
        after.allocated_bytes - before.allocated_bytes,
        v.capacity() as u64
    );
    assert_eq!(after.freed_bytes - before.freed_bytes, 1000);
}
