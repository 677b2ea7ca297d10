//! Page size: a global allocator that can back big blocks with 2 MiB pages.
//!
//! A row picked at random from tens of megabytes — a despawned particle, a grid cell's
//! neighbours, a reorder's gather — usually misses the TLB on 4 KiB pages, and each miss
//! costs a page walk before the data's own miss even starts. One 2 MiB page covers what
//! 512 small ones do, so the same columns fit the TLB many times over. Linux gives an
//! anonymous mapping such pages (transparent huge pages) when the program asks with
//! `madvise(MADV_HUGEPAGE)`, which is what [`HugePageAlloc`] does for every block of
//! [`HUGE_PAGE`] bytes or more once [`set_page_size`] asked for [`PageSize::Huge`]; until
//! then it advises them `MADV_NOHUGEPAGE`, so "small" means small pages.
//!
//! The page size is a property of the process, not of a world: install the allocator in
//! your binary and choose before you build the worlds whose storage should get the pages.
//!
//! ```no_run
//! use engine::pages::{HugePageAlloc, PageSize};
//!
//! #[global_allocator]
//! static ALLOC: HugePageAlloc = HugePageAlloc;
//!
//! fn main() {
//!     if let Err(why) = engine::pages::set_page_size(PageSize::Huge) {
//!         eprintln!("small pages: {why}");
//!     }
//!     // ... build the world: its columns of 2 MiB and more now sit on huge pages.
//!     println!("{:?} bytes on huge pages", engine::pages::huge_page_bytes());
//! }
//! ```
//!
//! # Invariants
//! - Whether a block is *big* depends on its layout only, never on the page size asked
//!   for: a block allocated under one setting is freed under another with the layout it
//!   was allocated with.
//! - A big block is rounded up to a multiple of [`HUGE_PAGE`] and aligned to it, so the
//!   advice covers whole huge pages and no other block shares them.
//! - The advice is given to a fresh block before anything touches it; where it fails (no
//!   transparent huge pages) the block gets the kernel's default, small pages.

use crate::error::ParamError;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// The size of a huge page, and the smallest block that gets one.
pub const HUGE_PAGE: usize = 2 << 20;

/// The page size big blocks get from [`HugePageAlloc`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PageSize {
    /// 4 KiB pages: big blocks are advised `MADV_NOHUGEPAGE`.
    #[default]
    Small,
    /// 2 MiB transparent huge pages for every block of [`HUGE_PAGE`] bytes or more.
    Huge,
}

impl PageSize {
    /// Both page sizes, small first.
    pub const ALL: [PageSize; 2] = [PageSize::Small, PageSize::Huge];

    /// The lower-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PageSize::Small => "small",
            PageSize::Huge => "huge",
        }
    }
}

crate::named_choice!(PageSize, "page size", "small or huge");

/// Whether big blocks are advised onto huge pages from now on.
static HUGE: AtomicBool = AtomicBool::new(false);
/// Whether [`HugePageAlloc`] has served a block, i.e. is the global allocator.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Where the kernel says whether transparent huge pages are on.
const THP_SETTING: &str = "/sys/kernel/mm/transparent_hugepage/enabled";

/// Asks for `size` pages for the big blocks allocated from now on (blocks already
/// allocated keep theirs).
///
/// # Errors
/// For [`PageSize::Huge`]: if [`HugePageAlloc`] is not the global allocator, or the kernel
/// has transparent huge pages off (or none); nothing changes then. [`PageSize::Small`]
/// always succeeds.
pub fn set_page_size(size: PageSize) -> Result<(), ParamError> {
    if size == PageSize::Huge {
        // std allocates before `main` (arguments, the main thread's name), through the
        // global allocator: if that is this one, it has been used.
        let installed = INSTALLED.load(Ordering::Relaxed);
        huge_pages_possible(installed, std::fs::read_to_string(THP_SETTING))?;
    }
    HUGE.store(size == PageSize::Huge, Ordering::Relaxed);
    Ok(())
}

/// Why huge pages cannot be had, if they cannot: the allocator is not installed, or the
/// kernel's transparent huge page setting (`setting`, as read) is off or unreadable.
fn huge_pages_possible(
    installed: bool,
    setting: std::io::Result<String>,
) -> Result<(), ParamError> {
    let refuse = |why: String| Err(ParamError::new("pages", PageSize::Huge, why));
    if !installed {
        return refuse("small (engine::pages::HugePageAlloc is not the global allocator)".into());
    }
    let setting = match setting {
        Ok(setting) => setting,
        Err(e) => {
            return refuse(format!(
                "small (no transparent huge pages: {THP_SETTING} cannot be read: {e})"
            ));
        }
    };
    // The active choice is the bracketed one: "always [madvise] never".
    match setting.split_whitespace().find(|w| w.starts_with('[')) {
        Some("[always]" | "[madvise]") => Ok(()),
        other => refuse(format!(
            "small (transparent huge pages are off: {THP_SETTING} says {})",
            other.unwrap_or(setting.trim())
        )),
    }
}

/// The page size big blocks get from now on.
pub fn page_size() -> PageSize {
    if HUGE.load(Ordering::Relaxed) {
        PageSize::Huge
    } else {
        PageSize::Small
    }
}

/// Bytes of this process's memory on transparent huge pages right now (`AnonHugePages` in
/// `/proc/self/smaps_rollup`), or `None` where the kernel does not say (not Linux).
pub fn huge_page_bytes() -> Option<u64> {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    let line = rollup.lines().find(|l| l.starts_with("AnonHugePages:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The layout a big block is allocated with (a multiple of [`HUGE_PAGE`], aligned to it),
/// or `None` for a block below [`HUGE_PAGE`], which goes to [`System`] as asked.
fn big(layout: Layout) -> Option<Layout> {
    if layout.size() < HUGE_PAGE {
        return None;
    }
    let size = layout.size().checked_next_multiple_of(HUGE_PAGE)?;
    Layout::from_size_align(size, layout.align().max(HUGE_PAGE)).ok()
}

/// Asks the kernel to back `[ptr, ptr + len)`, a fresh block, with pages of `size`.
///
/// The block may be memory `System` had handed out before, already backed under another
/// advice: dropping its pages makes the next touch fault them in under this one.
#[cfg(all(target_os = "linux", not(miri)))]
fn advise(ptr: *mut u8, len: usize, size: PageSize) {
    let advice = match size {
        PageSize::Small => libc::MADV_NOHUGEPAGE,
        PageSize::Huge => libc::MADV_HUGEPAGE,
    };
    // SAFETY: `[ptr, ptr + len)` is a block this allocator just got from `System` and owns,
    // and nothing has read or written it yet (it is page-aligned: `big` aligns it to
    // `HUGE_PAGE`). The first advice changes how the kernel backs those pages, never what
    // they hold. `MADV_DONTNEED` discards what they hold, which the caller of `alloc` may
    // not read before writing (and `alloc_zeroed` zeroes afterwards). A failure leaves
    // the pages as they were, which is only slower.
    unsafe {
        libc::madvise(ptr.cast(), len, advice);
        libc::madvise(ptr.cast(), len, libc::MADV_DONTNEED);
    }
}

/// Elsewhere (and under Miri, which has no `madvise`) big blocks get the kernel's default.
#[cfg(not(all(target_os = "linux", not(miri))))]
fn advise(_ptr: *mut u8, _len: usize, _size: PageSize) {}

/// The system allocator, except that blocks of [`HUGE_PAGE`] bytes or more are rounded to
/// whole huge pages and advised onto the pages [`set_page_size`] asked for: huge ones, or
/// explicitly small ones (so a block `System` hands out again, or a kernel that gives huge
/// pages to all memory, does not turn "small" into huge). Install it with `#[global_allocator]` (see [the module](self)).
#[derive(Clone, Copy, Debug, Default)]
pub struct HugePageAlloc;

impl HugePageAlloc {
    /// Allocates `layout` (big blocks as [`big`] says), advised onto huge pages if asked.
    fn allocate(layout: Layout, zeroed: bool) -> *mut u8 {
        if !INSTALLED.load(Ordering::Relaxed) {
            // Only the first few allocations store: a shared line that every allocation
            // wrote to would bounce between the cores.
            INSTALLED.store(true, Ordering::Relaxed);
        }
        let Some(whole) = big(layout) else {
            // SAFETY: `layout` has a non-zero size, as `GlobalAlloc::alloc` requires of
            // the caller.
            return unsafe {
                if zeroed {
                    System.alloc_zeroed(layout)
                } else {
                    System.alloc(layout)
                }
            };
        };
        // SAFETY: `whole` is at least as large as `layout`, hence non-zero.
        let ptr = unsafe { System.alloc(whole) };
        if ptr.is_null() {
            return ptr;
        }
        // Advised before the first touch, which is when the kernel picks the page.
        advise(ptr, whole.size(), page_size());
        if zeroed {
            // SAFETY: `ptr` is valid for writes of `whole.size() >= layout.size()` bytes.
            unsafe { ptr.write_bytes(0, layout.size()) };
        }
        ptr
    }
}

// SAFETY: every block comes from `System`; a big one with `big(layout)`, which is at least
// as large and as aligned as `layout` (so it fits `layout`), and is freed with
// `big(layout)` again: the same layout, because `big` depends on the layout only. A block
// below `HUGE_PAGE` goes to and from `System` with `layout` itself. `realloc` keeps
// `GlobalAlloc`'s contract: the first `min(old, new)` bytes are copied and the old block is
// freed only when the new one exists.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::allocate(layout, false)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::allocate(layout, true)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block of this allocator with its layout; it was
        // allocated from `System` with `big(layout)` or `layout`, which we pass back.
        unsafe { System.dealloc(ptr, big(layout).unwrap_or(layout)) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The caller guarantees that `new_size`, rounded up to `layout.align()`, does not
        // overflow `isize`, so this cannot fail.
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        if big(layout).is_none() && big(new_layout).is_none() {
            // SAFETY: both are small blocks, which `System` serves as asked.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // A big block's layout differs from the one asked for, so `System` cannot resize
        // it in place: move it.
        let new = Self::allocate(new_layout, false);
        if !new.is_null() {
            // SAFETY: `ptr` holds `layout.size()` bytes and `new` has room for
            // `new_size`; they are different blocks. `ptr` is this allocator's, with
            // `layout`.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills `len` bytes at `ptr` with a pattern that depends on the position.
    fn fill(ptr: *mut u8, len: usize) {
        for i in (0..len).step_by(4093) {
            // SAFETY: `i < len`, and the caller owns `len` bytes at `ptr`.
            unsafe { ptr.add(i).write(i as u8 ^ 0x5a) };
        }
    }

    fn holds_pattern(ptr: *const u8, len: usize) -> bool {
        // SAFETY: as `fill`.
        (0..len)
            .step_by(4093)
            .all(|i| unsafe { ptr.add(i).read() } == i as u8 ^ 0x5a)
    }

    #[test]
    fn big_blocks_are_whole_huge_pages_and_small_ones_as_asked() {
        let small = Layout::from_size_align(HUGE_PAGE - 1, 64).unwrap();
        assert_eq!(big(small), None);
        let odd = Layout::from_size_align(HUGE_PAGE + 1, 8).unwrap();
        let whole = big(odd).unwrap();
        assert_eq!((whole.size(), whole.align()), (2 * HUGE_PAGE, HUGE_PAGE));
        let too_big = Layout::from_size_align(isize::MAX as usize - 64, 8).unwrap();
        assert_eq!(big(too_big), None, "no layout past isize::MAX");
    }

    #[test]
    fn blocks_keep_their_bytes_through_every_kind_of_realloc_on_either_page_size() {
        let alloc = HugePageAlloc;
        for huge in [false, true] {
            HUGE.store(huge, Ordering::Relaxed);
            let layout = Layout::from_size_align(HUGE_PAGE + 3, 8).unwrap();
            // SAFETY: a non-zero layout; every block is freed below with its layout.
            unsafe {
                let p = alloc.alloc(layout);
                assert!(!p.is_null());
                assert_eq!(p as usize % HUGE_PAGE, 0, "a big block starts a huge page");
                fill(p, layout.size());
                // Big to bigger, big to small, small to big, small to small.
                let p = alloc.realloc(p, layout, 2 * HUGE_PAGE + 5);
                assert!(holds_pattern(p, layout.size()), "huge {huge}: grown");
                let p = alloc.realloc(
                    p,
                    Layout::from_size_align(2 * HUGE_PAGE + 5, 8).unwrap(),
                    10_000,
                );
                assert!(holds_pattern(p, 10_000), "huge {huge}: shrunk to small");
                let p = alloc.realloc(p, Layout::from_size_align(10_000, 8).unwrap(), HUGE_PAGE);
                assert!(holds_pattern(p, 10_000), "huge {huge}: grown to big");
                assert_eq!(p as usize % HUGE_PAGE, 0);
                let p = alloc.realloc(p, Layout::from_size_align(HUGE_PAGE, 8).unwrap(), 100);
                let p = alloc.realloc(p, Layout::from_size_align(100, 8).unwrap(), 200);
                assert!(holds_pattern(p, 100), "huge {huge}: small to small");
                alloc.dealloc(p, Layout::from_size_align(200, 8).unwrap());
            }
        }
        HUGE.store(false, Ordering::Relaxed);
    }

    #[test]
    fn a_block_allocated_on_one_page_size_is_freed_on_the_other() {
        let alloc = HugePageAlloc;
        let layout = Layout::from_size_align(3 * HUGE_PAGE, 16).unwrap();
        // SAFETY: a non-zero layout, freed once with it.
        unsafe {
            HUGE.store(true, Ordering::Relaxed);
            let p = alloc.alloc_zeroed(layout);
            assert!(!p.is_null());
            assert!(
                (0..layout.size())
                    .step_by(4093)
                    .all(|i| p.add(i).read() == 0)
            );
            HUGE.store(false, Ordering::Relaxed);
            alloc.dealloc(p, layout);
        }
    }

    #[test]
    fn huge_pages_are_refused_with_the_reason() {
        let on = || Ok("always [madvise] never\n".to_owned());
        let err = huge_pages_possible(false, on()).unwrap_err();
        assert!(
            err.to_string().contains("not the global allocator"),
            "{err}"
        );
        let err = huge_pages_possible(true, Ok("always madvise [never]\n".into())).unwrap_err();
        assert!(err.to_string().ends_with("says [never])"), "{err}");
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let err = huge_pages_possible(true, Err(missing)).unwrap_err();
        assert!(err.to_string().contains("cannot be read"), "{err}");
        assert_eq!(huge_pages_possible(true, on()), Ok(()));
        assert_eq!(
            huge_pages_possible(true, Ok("[always] madvise never".into())),
            Ok(())
        );
    }

    #[test]
    fn page_sizes_parse_by_name() {
        for size in PageSize::ALL {
            assert_eq!(size.name().parse::<PageSize>(), Ok(size));
        }
        let err = "medium".parse::<PageSize>().unwrap_err();
        assert!(err.contains("small or huge"), "{err}");
    }
}
