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
//! - A big block lies in a *region* of its own from `System`: a multiple of [`HUGE_PAGE`]
//!   aligned to one (or to the block's alignment, if larger), so the advice covers whole
//!   huge pages and no other block shares them. The region has room for the block at its
//!   largest stagger (below).
//! - A big block starts [`STAGGER`] bytes times a turn number (0 to [`STAGGERS`]` - 1`,
//!   taken in turn by every big block) into its region when its alignment divides
//!   [`STAGGER`] (alignments up to 64), and at the region's start otherwise. Every
//!   stagger is less than [`HUGE_PAGE`], so the region starts at the block's address
//!   rounded down to [`HUGE_PAGE`].
//! - The advice is given to a block as `System` hands it over, before this allocator hands it
//!   out; its old pages are dropped, so the next touch faults them in under the advice.
//!   Where it fails (no transparent huge pages) the block gets the kernel's default.
//! - Until [`set_page_size`] is called, big blocks get no advice at all.

use crate::error::ParamError;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

/// The size of a huge page (a PMD-level page on x86-64, and on arm64 with 4 KiB pages;
/// elsewhere the kernel's huge pages may have another size), and the smallest block that
/// gets one.
pub const HUGE_PAGE: usize = 2 << 20;

/// How far apart, in bytes, successive big blocks start within their first huge page: a
/// page and a cache line. Columns that all started on a huge page boundary had the same
/// address bits below 2 MiB, so `ages[i]` and `lifetimes[i]` (say) fell in the same cache
/// sets; in some runs the 1M default scene's `age` then took 0.35–0.54 ms instead of 0.18
/// (2026-12-08, `sim bench`, README). Starting them [`STAGGER`] apart spreads them.
///
/// The turn is shared by every big block, temporary ones too, so two given columns can
/// still land on the same start (one in [`STAGGERS`]). The room for the largest stagger
/// costs a block whose size is within `(STAGGERS - 1) * STAGGER` bytes below a multiple
/// of [`HUGE_PAGE`] (a power-of-two `Vec`, say) one more huge page of address space; the
/// kernel backs it only where the block reaches into it.
pub const STAGGER: usize = 4096 + 64;

/// How many different starts big blocks take in turn (see [`STAGGER`]).
pub const STAGGERS: usize = 16;

// `region_of` rounds down to the region's start: every stagger must be below a huge page.
const _: () = assert!((STAGGERS - 1) * STAGGER < HUGE_PAGE);

/// The turn of the next big block's start.
static NEXT_STAGGER: AtomicUsize = AtomicUsize::new(0);

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

/// What big blocks are advised from now on: [`NOT_CHOSEN`], [`SMALL`] or [`HUGE`].
static MODE: AtomicU8 = AtomicU8::new(NOT_CHOSEN);
/// No page size chosen yet: big blocks get no advice, so the kernel's default.
const NOT_CHOSEN: u8 = 0;
const SMALL: u8 = 1;
const HUGE: u8 = 2;
/// Whether [`HugePageAlloc`] has served a block: as the global allocator, or (in this
/// module's tests) called directly.
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
        huge_pages_available()?;
    }
    MODE.store(mode_of(size), Ordering::Relaxed);
    Ok(())
}

/// Whether [`set_page_size`]`(PageSize::Huge)` would succeed, without choosing anything:
/// a program that prefers huge pages but takes small ones asks this first.
///
/// ```
/// use engine::pages::{PageSize, huge_pages_available, set_page_size};
/// let size = match huge_pages_available() {
///     Ok(()) => PageSize::Huge,
///     Err(why) => {
///         // Here, a doc test: `HugePageAlloc` is not the global allocator.
///         eprintln!("{why}");
///         PageSize::Small
///     }
/// };
/// set_page_size(size).unwrap(); // cannot fail: small always works, huge was checked
/// ```
///
/// # Errors
/// Why not, as [`set_page_size`] would say it.
pub fn huge_pages_available() -> Result<(), ParamError> {
    // std allocates before `main` (arguments, the main thread's name), through the
    // global allocator: if that is this one, it has been used.
    let installed = INSTALLED.load(Ordering::Relaxed);
    huge_pages_possible(installed, std::fs::read_to_string(THP_SETTING))
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

/// The page size big blocks get from now on, or `None` before [`set_page_size`] chose
/// one: they then get the kernel's default (small pages, unless transparent huge pages are
/// `always` on).
pub fn page_size() -> Option<PageSize> {
    match MODE.load(Ordering::Relaxed) {
        SMALL => Some(PageSize::Small),
        HUGE => Some(PageSize::Huge),
        _ => None,
    }
}

fn mode_of(size: PageSize) -> u8 {
    match size {
        PageSize::Small => SMALL,
        PageSize::Huge => HUGE,
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

/// The layout a big block's region is allocated with (a multiple of [`HUGE_PAGE`], aligned
/// to it, with room for the block at its largest stagger), or `None` for a block below
/// [`HUGE_PAGE`] or one whose rounded size would pass `isize::MAX`: those go to [`System`]
/// as asked.
fn big(layout: Layout) -> Option<Layout> {
    if layout.size() < HUGE_PAGE {
        return None;
    }
    let size = layout
        .size()
        .checked_add((STAGGERS - 1) * STAGGER)?
        .checked_next_multiple_of(HUGE_PAGE)?;
    Layout::from_size_align(size, layout.align().max(HUGE_PAGE)).ok()
}

/// Where the next big block of `layout` starts in its region: the next turn's stagger,
/// or 0 if `layout`'s alignment does not divide [`STAGGER`].
fn next_stagger(layout: Layout) -> usize {
    if !STAGGER.is_multiple_of(layout.align()) {
        return 0;
    }
    NEXT_STAGGER.fetch_add(1, Ordering::Relaxed) % STAGGERS * STAGGER
}

/// The region a big block handed out at `ptr` lies in: `ptr` rounded down to
/// [`HUGE_PAGE`] (a stagger is less than a huge page, and the region is aligned to one).
fn region_of(ptr: *mut u8) -> *mut u8 {
    ptr.wrapping_sub(ptr.addr() % HUGE_PAGE)
}

/// Asks the kernel to back `[ptr, ptr + len)`, a block just allocated, with pages of
/// `mode` (nothing for [`NOT_CHOSEN`]).
///
/// `System` may hand out memory again that was backed under another advice: dropping the
/// block's pages makes the next touch fault them in under this one. The advice belongs to
/// the address range, not the block: smaller blocks `System` later carves from it keep it,
/// which changes only their page size. Each advised range may split a kernel mapping, but
/// big blocks are few.
#[cfg(all(target_os = "linux", not(miri)))]
fn advise(ptr: *mut u8, len: usize, mode: u8) {
    let advice = match mode {
        SMALL => libc::MADV_NOHUGEPAGE,
        HUGE => libc::MADV_HUGEPAGE,
        _ => return,
    };
    debug_assert!((ptr as usize).is_multiple_of(HUGE_PAGE) && len.is_multiple_of(HUGE_PAGE));
    // `big` makes `ptr` and `len` multiples of `HUGE_PAGE`, so of the page size, and the
    // kernel rounds nothing past the block. The first advice changes how the kernel backs
    // those pages, never what they hold; `MADV_DONTNEED` discards what they hold, which the
    // caller of `alloc` may not read before writing (`alloc_zeroed` zeroes afterwards). A
    // failure leaves the pages as they were, which is only slower; `errno`, which it sets,
    // is put back, since allocating must not change it.
    // SAFETY: `[ptr, ptr + len)` is a fresh block of whole pages that this allocator owns
    // until it hands it out, and `errno` points at this thread's errno.
    unsafe {
        let errno = libc::__errno_location();
        let saved = *errno;
        libc::madvise(ptr.cast(), len, advice);
        libc::madvise(ptr.cast(), len, libc::MADV_DONTNEED);
        *errno = saved;
    }
}

/// Elsewhere (and under Miri, which has no `madvise`) big blocks get the kernel's default.
#[cfg(not(all(target_os = "linux", not(miri))))]
fn advise(_ptr: *mut u8, _len: usize, _mode: u8) {}

/// The system allocator, except that blocks of [`HUGE_PAGE`] bytes or more get regions of
/// whole huge pages, start [staggered](STAGGER) in them, and are advised onto the pages
/// [`set_page_size`] asked for: huge ones, or explicitly small ones (so a block `System`
/// hands out again, or a kernel that gives huge pages to all memory, does not turn "small"
/// into huge). Until a page size is chosen they get no advice. Install it with
/// `#[global_allocator]` (see [the module](self)).
#[derive(Clone, Copy, Debug, Default)]
pub struct HugePageAlloc;

impl HugePageAlloc {
    /// Allocates `layout` (big blocks as [`big`] says), advised as `mode` says.
    ///
    /// # Safety
    /// `layout` has a non-zero size.
    unsafe fn allocate(layout: Layout, zeroed: bool, mode: u8) -> *mut u8 {
        if !INSTALLED.load(Ordering::Relaxed) {
            // Only the first few allocations store: a shared line that every allocation
            // wrote to would bounce between the cores.
            INSTALLED.store(true, Ordering::Relaxed);
        }
        let Some(whole) = big(layout) else {
            // SAFETY: `layout` has a non-zero size (this fn's contract).
            return unsafe {
                if zeroed {
                    System.alloc_zeroed(layout)
                } else {
                    System.alloc(layout)
                }
            };
        };
        // SAFETY: `whole` is at least as large as `layout`, hence non-zero.
        let region = unsafe { System.alloc(whole) };
        if region.is_null() {
            return region;
        }
        // Advised before the first touch, which is when the kernel picks the page.
        advise(region, whole.size(), mode);
        // The stagger is at most `(STAGGERS - 1) * STAGGER`, which `big` added to the
        // region's size; the region is aligned to at least `layout.align()` (`big`), and the
        // stagger is a multiple of `layout.align()` (or 0).
        // SAFETY: so the block stays inside the region, and aligned.
        let ptr = unsafe { region.add(next_stagger(layout)) };
        if zeroed {
            // SAFETY: `ptr` is valid for writes of `layout.size()` bytes (see above).
            unsafe { ptr.write_bytes(0, layout.size()) };
        }
        ptr
    }

    /// `GlobalAlloc::realloc`, with big blocks advised as `mode` says.
    ///
    /// # Safety
    /// As `GlobalAlloc::realloc`: `ptr` is a block of this allocator with `layout`, and
    /// `new_size` is non-zero and, rounded up to `layout.align()`, at most `isize::MAX`.
    unsafe fn reallocate(ptr: *mut u8, layout: Layout, new_size: usize, mode: u8) -> *mut u8 {
        // The caller guarantees that `new_size`, rounded up to `layout.align()`, does not
        // overflow `isize`, so this cannot fail.
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        match (big(layout), big(new_layout)) {
            // SAFETY: both are small blocks, which `System` serves as asked.
            (None, None) => return unsafe { System.realloc(ptr, layout, new_size) },
            // The block already has room (its region fits it at any stagger): `dealloc`
            // will free the region with the same rounded layout, which depends on the
            // layout only.
            (Some(old), Some(new)) if old == new => return ptr,
            _ => {}
        }
        // A big block's layout differs from the one asked for, so `System` cannot resize
        // it in place: move it.
        // SAFETY: `new_size` is non-zero (`GlobalAlloc::realloc`'s contract).
        let new = unsafe { Self::allocate(new_layout, false, mode) };
        if !new.is_null() {
            // SAFETY: `ptr` holds `layout.size()` bytes and `new` has room for
            // `new_size`; they are different blocks. `ptr` is this allocator's, with
            // `layout`.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                HugePageAlloc.dealloc(ptr, layout);
            }
        }
        new
    }
}

// Every block comes from `System`: a big one inside a region allocated with `big(layout)`,
// at a stagger that keeps it aligned and inside the region, the region freed from
// `region_of(ptr)` with `big(layout)` again (the same layout: `big` depends on the layout
// only); a block below `HUGE_PAGE` to and from `System` with `layout` itself. `realloc`
// keeps a block whose rounded layout does not change where it is; otherwise it copies the
// first `min(old, new)` bytes and frees the old block only once the new one exists.
// SAFETY: so every block is valid for its layout until freed, and freed as allocated.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: `GlobalAlloc::alloc`'s caller passes a non-zero size.
        unsafe { Self::allocate(layout, false, MODE.load(Ordering::Relaxed)) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe { Self::allocate(layout, true, MODE.load(Ordering::Relaxed)) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block of this allocator with its layout. A small one
        // came from `System` with `layout`; a big one lies in a region allocated with
        // `big(layout)`, which starts at `region_of(ptr)`.
        unsafe {
            match big(layout) {
                Some(whole) => System.dealloc(region_of(ptr), whole),
                None => System.dealloc(ptr, layout),
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller keeps `GlobalAlloc::realloc`'s contract, which `reallocate`
        // asks for.
        unsafe { Self::reallocate(ptr, layout, new_size, MODE.load(Ordering::Relaxed)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_blocks_are_whole_huge_pages_and_small_ones_as_asked() {
        let small = Layout::from_size_align(HUGE_PAGE - 1, 64).unwrap();
        assert_eq!(big(small), None);
        let odd = Layout::from_size_align(HUGE_PAGE + 1, 8).unwrap();
        let whole = big(odd).unwrap();
        assert_eq!((whole.size(), whole.align()), (2 * HUGE_PAGE, HUGE_PAGE));
        let full = Layout::from_size_align(2 * HUGE_PAGE, 8).unwrap();
        assert_eq!(
            big(full).unwrap().size(),
            3 * HUGE_PAGE,
            "room for the stagger"
        );
        let too_big = Layout::from_size_align(isize::MAX as usize - 64, 8).unwrap();
        assert_eq!(big(too_big), None, "no layout past isize::MAX");
    }

    /// Reallocates a block of `first` bytes to each of `sizes` in turn, checking after
    /// each that the pattern written into the bytes both sizes share survived.
    fn realloc_chain(mode: u8, first: usize, sizes: &[usize]) {
        let layout = |size| Layout::from_size_align(size, 8).unwrap();
        // SAFETY: non-zero layouts; every block is freed once, with its layout.
        unsafe {
            let mut p = HugePageAlloc::allocate(layout(first), false, mode);
            assert!(!p.is_null());
            let mut size = first;
            fill(p, size);
            for &next in sizes {
                p = HugePageAlloc::reallocate(p, layout(size), next, mode);
                assert!(!p.is_null(), "mode {mode}: {size} -> {next}");
                let kept = size.min(next);
                assert!(
                    holds_pattern(p, size, kept),
                    "mode {mode}: {size} -> {next}"
                );
                if big(layout(next)).is_some() {
                    let stagger = p.addr() % HUGE_PAGE;
                    assert!(
                        stagger < STAGGERS * STAGGER,
                        "a big block starts near a huge page"
                    );
                    assert_eq!(stagger % STAGGER, 0, "at a stagger");
                }
                size = next;
                fill(p, size);
            }
            HugePageAlloc.dealloc(p, layout(size));
        }
    }

    /// Writes a pattern that depends on the position into `len` bytes at `ptr`: every
    /// 4093rd byte and the last.
    fn fill(ptr: *mut u8, len: usize) {
        for i in probes(len) {
            // SAFETY: `i < len`, and the caller owns `len` bytes at `ptr`.
            unsafe { ptr.add(i).write(i as u8 ^ 0x5a) };
        }
    }

    /// Whether the bytes `fill(ptr, written)` wrote below `kept` are still there.
    fn holds_pattern(ptr: *const u8, written: usize, kept: usize) -> bool {
        probes(written)
            .filter(|&i| i < kept)
            // SAFETY: `i < kept`, and the caller owns `kept` bytes at `ptr`.
            .all(|i| unsafe { ptr.add(i).read() } == i as u8 ^ 0x5a)
    }

    fn probes(len: usize) -> impl Iterator<Item = usize> {
        (0..len).step_by(4093).chain(len.checked_sub(1))
    }

    #[test]
    fn blocks_keep_their_bytes_through_every_kind_of_realloc_in_every_mode() {
        for mode in [NOT_CHOSEN, SMALL, HUGE] {
            // Big to bigger, to the largest size with the same region (in place), to
            // small, small to big, big to small, small to small.
            let sizes = [
                2 * HUGE_PAGE + 5,
                3 * HUGE_PAGE - (STAGGERS - 1) * STAGGER,
                10_000,
                HUGE_PAGE,
                100,
                200,
            ];
            realloc_chain(mode, HUGE_PAGE + 3, &sizes);
        }
    }

    #[test]
    fn growing_within_the_rounded_size_keeps_the_block_in_place() {
        let layout = Layout::from_size_align(HUGE_PAGE + 1, 8).unwrap();
        // SAFETY: a non-zero layout, freed once with the layout it ends with.
        unsafe {
            let p = HugePageAlloc::allocate(layout, false, HUGE);
            assert!(!p.is_null());
            // The largest size whose region is still two huge pages.
            let grown = 2 * HUGE_PAGE - (STAGGERS - 1) * STAGGER;
            let q = HugePageAlloc::reallocate(p, layout, grown, HUGE);
            assert_eq!(p, q);
            // Under Miri, writing the whole grown block checks that it fits its region.
            fill(q, grown);
            HugePageAlloc.dealloc(q, Layout::from_size_align(grown, 8).unwrap());
        }
    }

    #[test]
    fn big_blocks_in_turn_start_at_different_staggers() {
        let layout = Layout::from_size_align(HUGE_PAGE, 4).unwrap();
        // SAFETY: non-zero layouts, each block freed once with its own.
        unsafe {
            let blocks: Vec<*mut u8> = (0..4)
                .map(|_| HugePageAlloc::allocate(layout, true, HUGE))
                .collect();
            let starts: Vec<usize> = blocks.iter().map(|&p| p.addr() % HUGE_PAGE).collect();
            // Other tests may allocate big blocks in between, but not a multiple of
            // `STAGGERS` between each of these.
            assert!(starts.windows(2).any(|w| w[0] != w[1]), "{starts:?}");
            for (&p, start) in blocks.iter().zip(&starts) {
                assert_eq!(start % STAGGER, 0, "{starts:?}");
                assert!(probes(layout.size()).all(|i| p.add(i).read() == 0));
                fill(p, layout.size());
                HugePageAlloc.dealloc(p, layout);
            }
            // An alignment that does not divide the stagger gets none; 64, the largest
            // that does, gets one; one past a huge page gets a region aligned to it. Each
            // block is written whole, which Miri checks against its region.
            let cases = [(128, 0), (4 * HUGE_PAGE, 0), (64, STAGGER)];
            for (align, granule) in cases {
                let layout = Layout::from_size_align(HUGE_PAGE + 7, align).unwrap();
                let p = HugePageAlloc::allocate(layout, false, HUGE);
                assert_eq!(p.addr() % align, 0, "align {align}");
                let stagger = p.addr() % HUGE_PAGE;
                match granule {
                    0 => assert_eq!(stagger, 0, "align {align}"),
                    g => assert_eq!(stagger % g, 0, "align {align}"),
                }
                fill(p, layout.size());
                HugePageAlloc.dealloc(p, layout);
            }
        }
    }

    /// Natively glibc's `free` ignores the layout and fresh pages read zero anyway: this
    /// test has teeth under Miri (in CI), which checks the layout a block is freed with
    /// and reads uninitialised bytes as an error.
    #[test]
    fn a_block_allocated_in_one_mode_is_zeroed_and_freed_in_another() {
        let layout = Layout::from_size_align(3 * HUGE_PAGE, 16).unwrap();
        for mode in [NOT_CHOSEN, SMALL, HUGE] {
            // SAFETY: a non-zero layout, freed once with it.
            unsafe {
                let p = HugePageAlloc::allocate(layout, true, mode);
                assert!(!p.is_null());
                assert!(probes(layout.size()).all(|i| p.add(i).read() == 0));
                HugePageAlloc.dealloc(p, layout);
            }
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
