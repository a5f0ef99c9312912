//! Exact heap accounting: a [`CountingAllocator`] that wraps the system
//! allocator (or any [`GlobalAlloc`](std::alloc::GlobalAlloc)) and counts
//! every allocation and free. A test binary that installs it gets
//! `heap.live`, `heap.peak`, `heap.allocated`, `heap.allocations`,
//! `heap.growth` and `heap.slope` in every report:
//!
//! ```no_run
//! #[global_allocator]
//! static ALLOCATOR: brunt::heap::CountingAllocator = brunt::heap::CountingAllocator::system();
//! ```
//!
//! Resident memory (`rss.*`) shows what the allocator holds from the
//! operating system, which lags frees and rounds to pages; the heap counts
//! show what the program holds, to the byte. A leak is judged on
//! `heap.growth` when it is there.
//!
//! Counting costs a few nanoseconds per allocation: each thread adds to
//! counters of its own (single-writer slots, one cache line each), never
//! to one shared atomic, which two cores contending for would make the
//! dominant cost of every allocation.

mod counters;
mod counting;

pub use counters::{HeapStats, is_counting, stats};
pub use counting::CountingAllocator;
