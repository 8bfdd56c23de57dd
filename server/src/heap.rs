//! The allocator's own account of the heap, for `/metrics`: what the
//! program holds (`allocated`), the pages holding it (`active`), what jemalloc
//! keeps resident for itself and as free pages (`resident`), and what it
//! keeps mapped or retained. Read after advancing jemalloc's `epoch` (its
//! statistics are a snapshot refreshed only then).
//!
//! Reported only when the binary runs on jemalloc: `main.rs` calls
//! [`report_jemalloc`] next to its `#[global_allocator]`; a library user on
//! another allocator (the tests) sees no heap lines rather than jemalloc's
//! idle figures.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use tikv_jemalloc_ctl::{epoch, stats, Access, AsName};

static JEMALLOC_IS_GLOBAL: AtomicBool = AtomicBool::new(false);

/// Tells `/metrics` that jemalloc is the global allocator (call once from `main`).
pub fn report_jemalloc() {
    JEMALLOC_IS_GLOBAL.store(true, Ordering::Relaxed);
}

/// One snapshot of jemalloc's statistics, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes the program has allocated and not freed.
    pub allocated: u64,
    /// Bytes in pages holding live allocations (`allocated` plus fragmentation).
    pub active: u64,
    /// Bytes of allocator metadata (extent records, radix tree, thread caches' bins).
    pub metadata: u64,
    /// Bytes in pages jemalloc has touched and not returned to the OS.
    pub resident: u64,
    /// Bytes in extents jemalloc has mapped (active plus dirty and muzzy pages).
    pub mapped: u64,
    /// Bytes of virtual memory jemalloc keeps for reuse instead of unmapping (not resident).
    pub retained: u64,
    /// Bytes of freed pages not yet purged (returned by the decay, or at once when it is 0).
    pub dirty: u64,
    /// Bytes of lazily purged pages (`MADV_FREE`: resident until the kernel takes them).
    pub muzzy: u64,
}

impl HeapStats {
    /// The current figures; None when jemalloc is not the global allocator or
    /// was built without statistics.
    pub fn read() -> Option<Self> {
        if !JEMALLOC_IS_GLOBAL.load(Ordering::Relaxed) {
            return None;
        }
        epoch::advance().ok()?;
        let page = page_size()?;
        Some(Self {
            allocated: stats::allocated::read().ok()? as u64,
            active: stats::active::read().ok()? as u64,
            metadata: stats::metadata::read().ok()? as u64,
            resident: stats::resident::read().ok()? as u64,
            mapped: stats::mapped::read().ok()? as u64,
            retained: stats::retained::read().ok()? as u64,
            // 4096 is MALLCTL_ARENAS_ALL: the sum over every arena.
            dirty: pages(b"stats.arenas.4096.pdirty\0")? * page,
            muzzy: pages(b"stats.arenas.4096.pmuzzy\0")? * page,
        })
    }

    /// Appends the figures as Prometheus gauges `rtcroom_heap_*_bytes`.
    pub fn render(&self, out: &mut String) {
        let lines: [(&str, &str, u64); 8] = [
            ("allocated", "Heap bytes allocated by the server and not freed (jemalloc stats.allocated).", self.allocated),
            ("active", "Bytes in pages holding live allocations (jemalloc stats.active).", self.active),
            ("metadata", "Allocator metadata bytes (jemalloc stats.metadata).", self.metadata),
            ("resident", "Bytes jemalloc holds in resident pages (jemalloc stats.resident).", self.resident),
            ("mapped", "Bytes in extents jemalloc has mapped (jemalloc stats.mapped).", self.mapped),
            ("retained", "Virtual memory jemalloc retains for reuse, not resident (jemalloc stats.retained).", self.retained),
            ("dirty", "Freed pages not yet returned to the OS (jemalloc pdirty).", self.dirty),
            ("muzzy", "Pages returned lazily with MADV_FREE (jemalloc pmuzzy).", self.muzzy),
        ];
        for (what, help, v) in lines {
            let _ = writeln!(
                out,
                "# HELP rtcroom_heap_{what}_bytes {help}\n# TYPE rtcroom_heap_{what}_bytes gauge\nrtcroom_heap_{what}_bytes {v}"
            );
        }
    }
}

/// jemalloc's effective options worth logging at start: the built-in
/// `malloc_conf`, thread caches, arenas, the background thread and the slab
/// size of the 4 KiB class (`slab_sizes`).
pub fn describe_jemalloc() -> String {
    let built_in = tikv_jemalloc_ctl::config::malloc_conf::read().unwrap_or("?");
    let tcache = tikv_jemalloc_ctl::opt::tcache::read().ok();
    let narenas = tikv_jemalloc_ctl::opt::narenas::read().ok();
    let background = tikv_jemalloc_ctl::background_thread::read().ok();
    let slab_4k = slab_bytes_of(4096);
    format!("malloc_conf {built_in:?}, tcache {tcache:?}, narenas {narenas:?}, background_thread {background:?}, 4 KiB slab {slab_4k:?}")
}

/// Bytes of one slab of the small size class `size` (None when `size` is
/// not one). jemalloc's default puts one 4 KiB object per page-sized slab,
/// so each one costs an extent record of allocator metadata.
pub fn slab_bytes_of(size: usize) -> Option<usize> {
    let nbins = Access::<u32>::read(b"arenas.nbins\0".name()).ok()?;
    let bin = (0..nbins).find(|i| bin_read(*i, "size") == Some(size))?;
    bin_read(bin, "slab_size")
}

fn bin_read(bin: u32, field: &str) -> Option<usize> {
    let key = format!("arenas.bin.{bin}.{field}\0").into_bytes();
    Access::<usize>::read(key.as_slice().name()).ok()
}

fn page_size() -> Option<u64> {
    let name = b"arenas.page\0".name();
    Access::<usize>::read(name).ok().map(|p| p as u64)
}

fn pages(key: &'static [u8]) -> Option<u64> {
    Access::<usize>::read(key.name()).ok().map(|p| p as u64)
}
