//! Bump arenas: a growable [`Arena`], double-buffered [`FrameArenas`], and a per-thread
//! scratch arena for rayon workers ([`with_thread_scratch`]).
//!
//! An arena can also run in [`AllocMode::Heap`]: every allocation is then its own block from
//! the global allocator, freed at the next reset — what the same code costs when each
//! scratch buffer is a fresh `Vec` dropped at the end of the step. Same API, same data; the
//! difference is the allocator's work, counted in [`ArenaStats::allocations`].
//!
//! # Safety argument
//! - Memory comes in *chunks* from the global allocator (in heap mode, one *block* per
//!   request); a chunk or block never moves or shrinks, and is freed only by `reset`,
//!   `set_mode` or drop, all of which take `&mut self` (or the arena by value), so a
//!   reference handed out by `alloc*` (which borrows `&self`) stays valid for that borrow.
//!   The lists of chunks and blocks may reallocate, but they hold the pointers, not the
//!   memory the pointers point to.
//! - Allocations never overlap: the bump pointer only moves down inside a chunk (from its
//!   end towards its start, as in bumpalo), and each allocation takes
//!   `[aligned, aligned + size)` with `chunk start <= aligned` and `aligned + size` at or
//!   below the previous allocation; a heap-mode block belongs to one allocation.
//! - [`Arena::reset`] takes `&mut self`, so no reference into the arena can survive it: the
//!   borrow checker proves the memory is unobserved before the bump pointer rewinds.
//! - Types that need `Drop` are rejected at compile time (an arena never runs destructors,
//!   like bumpalo; rejecting them means nothing can leak a file handle or a lock by accident).
//!
//! ```compile_fail,E0502
//! // A reference cannot outlive a reset.
//! let mut arena = engine::arena::Arena::new();
//! let x = arena.alloc(1u32);
//! arena.reset();
//! assert_eq!(*x, 1);
//! ```
//!
//! ```compile_fail,E0080
//! // Types with destructors are refused when the call is compiled.
//! let arena = engine::arena::Arena::new();
//! arena.alloc(String::from("leaks"));
//! ```
//!
//! ```compile_fail,E0502
//! // The previous frame cannot be borrowed across a swap either.
//! let mut frames = engine::arena::FrameArenas::new();
//! let x = frames.current().alloc(1u32);
//! frames.swap();
//! assert_eq!(*x, 1);
//! ```

use rayon::prelude::{IndexedParallelIterator, ParallelIterator, ParallelSlice, ParallelSliceMut};
use std::alloc::{self, Layout};
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// Alignment of every chunk's start; larger alignments are reached by padding.
const CHUNK_ALIGN: usize = 16;
/// Size of the first chunk when none is requested.
const DEFAULT_FIRST_CHUNK: usize = 4096;

/// One block of memory from the global allocator.
struct Chunk {
    ptr: NonNull<u8>,
    capacity: usize,
}

impl Chunk {
    fn new(capacity: usize) -> Chunk {
        let layout = Self::layout(capacity);
        // SAFETY: `layout` has a non-zero size (capacity >= CHUNK_ALIGN by construction).
        let raw = unsafe { alloc::alloc(layout) };
        let ptr = NonNull::new(raw).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        Chunk { ptr, capacity }
    }

    fn layout(capacity: usize) -> Layout {
        Layout::from_size_align(capacity.max(CHUNK_ALIGN), CHUNK_ALIGN)
            .expect("arena chunk larger than isize::MAX")
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `alloc::alloc` with exactly this layout and is freed once.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), Self::layout(self.capacity)) }
    }
}

/// Where an arena's memory comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AllocMode {
    /// Bump allocation in chunks kept across resets: steady use never calls the global
    /// allocator.
    #[default]
    Arena,
    /// One global allocation per request, freed at the next reset: a fresh heap buffer per
    /// use, as code without an arena would do.
    Heap,
}

impl AllocMode {
    /// Both modes, in a fixed order.
    pub const ALL: [AllocMode; 2] = [AllocMode::Arena, AllocMode::Heap];

    /// The lower-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            AllocMode::Arena => "arena",
            AllocMode::Heap => "heap",
        }
    }

    /// The other mode.
    pub fn toggled(self) -> AllocMode {
        match self {
            AllocMode::Arena => AllocMode::Heap,
            AllocMode::Heap => AllocMode::Arena,
        }
    }
}

crate::named_choice!(AllocMode, "allocation mode", "arena or heap");

/// One block of a heap-mode arena: a single global allocation.
struct Block {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `alloc::alloc` with exactly this layout and is freed once.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// Pushes `item` onto one of `arena`'s own lists, counting the list's reallocation (if the
/// push grows it) as the global allocation it is.
fn count_growth<T>(arena: &Arena, list: &mut Vec<T>, item: T) {
    let capacity = list.capacity();
    list.push(item);
    if list.capacity() != capacity {
        arena.count_allocation(list.capacity() * size_of::<T>());
    }
}

/// Memory use of an arena, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArenaStats {
    /// Bytes handed out since the last reset (including alignment padding).
    pub used: usize,
    /// Bytes held from the global allocator.
    pub capacity: usize,
    /// The largest `used` seen at any reset or stats call.
    pub high_water: usize,
    /// Calls to the global allocator since the last reset: chunks in arena mode (none once
    /// warm), one per request in heap mode.
    pub allocations: u64,
    /// Bytes asked of the global allocator since the last reset.
    pub allocated_bytes: usize,
}

/// A bump arena: O(1) allocation, O(1) reset, grows by chunks and never runs out.
///
/// ```
/// use engine::arena::Arena;
/// let mut arena = Arena::new();
/// let xs = arena.alloc_slice_copy(&[1.0f32, 2.0, 3.0]);
/// xs[0] = 10.0;
/// assert_eq!(xs, &[10.0, 2.0, 3.0]);
/// arena.reset(); // xs can no longer be used; the memory is reused
/// ```
pub struct Arena {
    /// Chunks that filled up before the current one; freed on reset.
    full: RefCell<Vec<Chunk>>,
    /// Where allocations go now. `None` only before the first allocation.
    current: RefCell<Option<Chunk>>,
    /// Base pointer and capacity of `current`, cached so stats avoid the RefCell.
    base: Cell<Option<NonNull<u8>>>,
    capacity: Cell<usize>,
    /// The lowest byte handed out in `current` (its end while empty): allocation bumps
    /// down from here, as in bumpalo. `None` while there is no chunk, and in heap mode, so
    /// the fast path needs no mode test.
    top: Cell<Option<NonNull<u8>>>,
    /// The address of `current`'s first byte, the floor `top` may not go below.
    bottom: Cell<usize>,
    /// Bytes used in `full` chunks.
    full_used: Cell<usize>,
    high_water: Cell<usize>,
    first_chunk: usize,
    mode: AllocMode,
    /// Heap mode's blocks, freed on reset (the list keeps its capacity).
    blocks: RefCell<Vec<Block>>,
    allocations: Cell<u64>,
    allocated_bytes: Cell<usize>,
}

// SAFETY: the arena exclusively owns its chunks and heap-mode blocks; moving it to another
// thread moves that ownership. It is not `Sync` (the `Cell`s), so two threads never bump it at once.
unsafe impl Send for Arena {}

impl Default for Arena {
    fn default() -> Self {
        Self::new()
    }
}

// `&self -> &mut T` is the point of an arena (as in bumpalo): each call returns fresh memory
// that no other reference can reach.
#[allow(clippy::mut_from_ref)]
impl Arena {
    /// An empty arena; the first allocation takes a small chunk.
    pub fn new() -> Arena {
        Self::with_capacity(DEFAULT_FIRST_CHUNK)
    }

    /// An arena whose first chunk holds at least `bytes`.
    pub fn with_capacity(bytes: usize) -> Arena {
        Arena {
            full: RefCell::new(Vec::new()),
            current: RefCell::new(None),
            base: Cell::new(None),
            capacity: Cell::new(0),
            top: Cell::new(None),
            bottom: Cell::new(0),
            full_used: Cell::new(0),
            high_water: Cell::new(0),
            first_chunk: bytes.max(CHUNK_ALIGN),
            mode: AllocMode::Arena,
            blocks: RefCell::new(Vec::new()),
            allocations: Cell::new(0),
            allocated_bytes: Cell::new(0),
        }
    }

    /// Where allocations come from.
    pub fn mode(&self) -> AllocMode {
        self.mode
    }

    /// Resets the arena and takes memory from `mode` from now on. Switching to heap mode
    /// gives the chunks back, so what it holds is what its blocks hold.
    ///
    /// ```
    /// use engine::arena::{AllocMode, Arena};
    /// let mut arena = Arena::new();
    /// arena.set_mode(AllocMode::Heap);
    /// let xs = arena.alloc_slice_copy(&[1u32, 2, 3]);
    /// assert_eq!(xs, &[1, 2, 3]);
    /// arena.reset(); // frees the block
    /// arena.alloc_slice_copy(&[4u32, 5]);
    /// assert_eq!(arena.stats().allocations, 1); // one block from the global allocator
    /// ```
    pub fn set_mode(&mut self, mode: AllocMode) {
        self.reset();
        if mode == AllocMode::Heap {
            *self.current.get_mut() = None;
            self.base.set(None);
            self.capacity.set(0);
            self.top.set(None);
            self.bottom.set(0);
        }
        self.mode = mode;
    }

    /// Moves `value` into the arena and returns a mutable reference to it.
    ///
    /// `T` must not need `Drop` (checked at compile time): the arena frees memory in bulk
    /// and never runs destructors.
    #[inline]
    pub fn alloc<T>(&self, value: T) -> &mut T {
        const {
            assert!(
                !std::mem::needs_drop::<T>(),
                "arena values must not need Drop"
            )
        };
        let ptr = self.alloc_layout(Layout::new::<T>()).cast::<T>();
        // SAFETY: `ptr` is aligned for `T`, valid for `size_of::<T>()` bytes, unaliased
        // (fresh bump space or a fresh block) and lives as long as `&self` (chunks and
        // blocks never move, and are freed only through `&mut self`).
        unsafe {
            ptr.as_ptr().write(value);
            &mut *ptr.as_ptr()
        }
    }

    /// Copies `src` into the arena.
    #[inline]
    pub fn alloc_slice_copy<T: Copy>(&self, src: &[T]) -> &mut [T] {
        let ptr = self.alloc_array::<T>(src.len());
        // SAFETY: `ptr` is aligned and valid for `src.len()` fresh `T`s; `src` cannot overlap
        // fresh bump space or a fresh block. Afterwards every element is initialised.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), ptr.as_ptr(), src.len());
            std::slice::from_raw_parts_mut(ptr.as_ptr(), src.len())
        }
    }

    /// Allocates space for `len` values and leaves it uninitialised, for a caller that
    /// writes every element itself in an order of its own (the grid's scatter does): it
    /// saves the pass that [`Arena::alloc_slice_fill_with`] makes to write each one first.
    ///
    /// `T` must not need `Drop`, as for every arena value.
    ///
    /// ```
    /// use engine::arena::Arena;
    /// let arena = Arena::new();
    /// let slots = arena.alloc_uninit_slice::<u32>(3);
    /// for (i, slot) in slots.iter_mut().enumerate().rev() {
    ///     slot.write(i as u32 * 10);
    /// }
    /// // SAFETY: the loop wrote all three.
    /// assert_eq!(unsafe { slots.assume_init_ref() }, &[0, 10, 20]);
    /// ```
    #[inline]
    pub fn alloc_uninit_slice<T>(&self, len: usize) -> &mut [MaybeUninit<T>] {
        const {
            assert!(
                !std::mem::needs_drop::<T>(),
                "arena values must not need Drop"
            )
        };
        let ptr = self.alloc_array::<T>(len);
        // SAFETY: `ptr` is aligned and valid for `len` fresh `T`s and nothing else refers
        // to that space (as in `alloc`); `MaybeUninit<T>` has `T`'s layout and may hold
        // anything, so the uninitialised space is a valid value of it.
        unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr().cast::<MaybeUninit<T>>(), len) }
    }

    /// [`Arena::alloc_slice_copy`], the copying split between the current rayon pool's
    /// workers when `src` has more than `min_len` elements (a big copy is bound by one
    /// core's memory bandwidth, not the machine's).
    ///
    /// ```
    /// use engine::arena::Arena;
    /// let arena = Arena::new();
    /// let src: Vec<u32> = (0..100_000).collect();
    /// assert_eq!(arena.par_alloc_slice_copy(&src, 4096), &src[..]);
    /// ```
    pub fn par_alloc_slice_copy<T: Copy + Send + Sync>(
        &self,
        src: &[T],
        min_len: usize,
    ) -> &mut [T] {
        if src.len() <= min_len.max(1) {
            return self.alloc_slice_copy(src);
        }
        let dst = self.alloc_uninit_slice::<T>(src.len());
        let piece = src
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(min_len);
        dst.par_chunks_mut(piece)
            .zip(src.par_chunks(piece))
            .for_each(|(d, s)| {
                d.write_copy_of_slice(s);
            });
        // SAFETY: the chunks cover `dst` whole, each copied from `src`, so every element is
        // initialised.
        unsafe { dst.assume_init_mut() }
    }

    /// Allocates `len` values, the `i`th being `f(i)`.
    #[inline]
    pub fn alloc_slice_fill_with<T>(&self, len: usize, mut f: impl FnMut(usize) -> T) -> &mut [T] {
        const {
            assert!(
                !std::mem::needs_drop::<T>(),
                "arena values must not need Drop"
            )
        };
        let ptr = self.alloc_array::<T>(len);
        for i in 0..len {
            // SAFETY: `i < len` and the space is valid for `len` `T`s. If `f` panics, the
            // written prefix is simply abandoned: `T` has no destructor to skip.
            unsafe { ptr.as_ptr().add(i).write(f(i)) };
        }
        // SAFETY: all `len` elements were initialised above.
        unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), len) }
    }

    /// Copies a string into the arena.
    pub fn alloc_str(&self, src: &str) -> &mut str {
        let bytes = self.alloc_slice_copy(src.as_bytes());
        // SAFETY: the bytes are a copy of a valid `str`.
        unsafe { std::str::from_utf8_unchecked_mut(bytes) }
    }

    /// Rewinds the arena so its memory can be reused. Keeps the largest (current) chunk and
    /// frees the others, so a workload that repeats stops asking the global allocator; in
    /// heap mode it frees every block.
    pub fn reset(&mut self) {
        self.note_high_water();
        self.full.get_mut().clear();
        self.blocks.get_mut().clear();
        self.full_used.set(0);
        self.top.set(self.chunk_end());
        self.allocations.set(0);
        self.allocated_bytes.set(0);
    }

    /// Bytes used, held, and the high-water mark; global allocations since the last reset.
    pub fn stats(&self) -> ArenaStats {
        self.note_high_water();
        let full_capacity: usize = self.full.borrow().iter().map(|c| c.capacity).sum();
        let block_bytes: usize = self.blocks.borrow().iter().map(|b| b.layout.size()).sum();
        ArenaStats {
            used: self.used(),
            capacity: full_capacity + self.capacity.get() + block_bytes,
            high_water: self.high_water.get(),
            allocations: self.allocations.get(),
            allocated_bytes: self.allocated_bytes.get(),
        }
    }

    fn count_allocation(&self, bytes: usize) {
        self.allocations.set(self.allocations.get() + 1);
        self.allocated_bytes.set(self.allocated_bytes.get() + bytes);
    }

    fn used(&self) -> usize {
        self.full_used.get() + self.used_in_current()
    }

    /// Bytes handed out from the current chunk.
    fn used_in_current(&self) -> usize {
        match (self.top.get(), self.chunk_end()) {
            (Some(top), Some(end)) => end.addr().get() - top.addr().get(),
            _ => 0,
        }
    }

    /// One past the current chunk's last byte.
    fn chunk_end(&self) -> Option<NonNull<u8>> {
        let base = self.base.get()?;
        NonNull::new(base.as_ptr().wrapping_add(self.capacity.get()))
    }

    fn note_high_water(&self) {
        self.high_water.set(self.high_water.get().max(self.used()));
    }

    fn alloc_array<T>(&self, len: usize) -> NonNull<T> {
        let layout = Layout::array::<T>(len).expect("arena slice larger than isize::MAX");
        self.alloc_layout(layout).cast()
    }

    /// Returns space for `layout`: aligned, unaliased, valid until the next reset. A
    /// zero-sized request takes no memory (and no chunk): any aligned non-null pointer is
    /// valid for zero bytes.
    #[inline]
    fn alloc_layout(&self, layout: Layout) -> NonNull<u8> {
        if layout.size() == 0 {
            return NonNull::new(std::ptr::without_provenance_mut(layout.align()))
                .expect("an alignment is never zero");
        }
        match self.try_bump(layout) {
            Some(ptr) => ptr,
            None => self.alloc_slow(layout),
        }
    }

    /// Bumps `top` down by `layout`'s size, rounded down to its alignment: a subtract and a
    /// mask, with a test for no chunk, one for the start of the address space and one for
    /// the chunk's start (the first two fold into one compare when the size is constant).
    /// `None` if the current chunk is too full (or there is none).
    #[inline]
    fn try_bump(&self, layout: Layout) -> Option<NonNull<u8>> {
        let top = self.top.get()?;
        let addr = top.addr().get().checked_sub(layout.size())? & !(layout.align() - 1);
        if addr < self.bottom.get() {
            return None;
        }
        let ptr = top.with_addr(NonZeroUsize::new(addr)?);
        self.top.set(Some(ptr));
        Some(ptr)
    }

    /// Where a request goes when the current chunk cannot take it: a block of its own in
    /// heap mode, else a new chunk.
    #[cold]
    fn alloc_slow(&self, layout: Layout) -> NonNull<u8> {
        if self.mode == AllocMode::Heap {
            return self.alloc_block(layout);
        }
        self.grow(layout);
        self.try_bump(layout)
            .expect("a fresh chunk is sized to fit the request")
    }

    /// Heap mode: a block of its own from the global allocator, kept until the next reset.
    fn alloc_block(&self, layout: Layout) -> NonNull<u8> {
        // SAFETY: `layout` has a non-zero size (zero-sized requests returned earlier).
        let raw = unsafe { alloc::alloc(layout) };
        let ptr = NonNull::new(raw).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        count_growth(self, &mut self.blocks.borrow_mut(), Block { ptr, layout });
        self.count_allocation(layout.size());
        self.full_used.set(self.full_used.get() + layout.size());
        ptr
    }

    /// Starts a new chunk big enough for `layout`: at least twice the last one.
    #[cold]
    fn grow(&self, layout: Layout) {
        let needed = layout.size() + layout.align();
        // A whole number of alignment units, so the first bump from the end is aligned for
        // most types and `used` counts no padding for them.
        let capacity = (self.capacity.get() * 2)
            .max(self.first_chunk)
            .max(needed)
            .next_multiple_of(CHUNK_ALIGN);
        let chunk = Chunk::new(capacity);
        self.count_allocation(capacity);
        self.full_used
            .set(self.full_used.get() + self.used_in_current());
        self.base.set(Some(chunk.ptr));
        self.capacity.set(chunk.capacity);
        self.bottom.set(chunk.ptr.addr().get());
        self.top.set(self.chunk_end());
        if let Some(old) = self.current.borrow_mut().replace(chunk) {
            count_growth(self, &mut self.full.borrow_mut(), old);
        }
    }
}

/// Two arenas used in turn, one per frame: the current frame allocates while the previous
/// frame's data stays readable. [`FrameArenas::swap`] resets the older one and makes it
/// current.
///
/// Data meant to outlive a frame boundary is kept as a [`FrameSlice`] handle, which resolves
/// through [`FrameArenas::get`] only while its frame is the current or the previous one.
///
/// ```
/// use engine::arena::FrameArenas;
/// let mut frames = FrameArenas::new();
/// let positions = frames.stash(&[1.0f32, 2.0]);
/// frames.swap();
/// assert_eq!(frames.get(&positions), Some(&[1.0, 2.0][..])); // last frame's data
/// frames.swap();
/// assert_eq!(frames.get(&positions), None); // its arena has been reset
/// ```
pub struct FrameArenas {
    arenas: [Arena; 2],
    /// Unique per instance, so a handle from one `FrameArenas` never resolves in another.
    id: u64,
    /// Counts swaps; the current arena is `arenas[frame % 2]`.
    frame: u64,
    /// The mode each arena takes when it next becomes current.
    mode: AllocMode,
}

/// A slice stashed in a frame arena, readable while its frame is current or previous.
pub struct FrameSlice<T> {
    ptr: NonNull<T>,
    len: usize,
    frame: u64,
    owner: u64,
    _owns: PhantomData<T>,
}

// Manual impls: a derive would add a needless `T: Clone` bound.
impl<T> Clone for FrameSlice<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for FrameSlice<T> {}

// SAFETY: a `FrameSlice` is only dereferenced through `FrameArenas::get(&self)`, which
// yields `&[T]`; sending the handle is like sending a `&[T]`, so require `T: Sync`.
unsafe impl<T: Sync> Send for FrameSlice<T> {}
// SAFETY: as above, sharing the handle gives at most shared access to `T`.
unsafe impl<T: Sync> Sync for FrameSlice<T> {}

impl<T> FrameSlice<T> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the slice is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The frame number it was stashed in.
    pub fn frame(&self) -> u64 {
        self.frame
    }
}

impl Default for FrameArenas {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameArenas {
    /// Two empty arenas.
    pub fn new() -> FrameArenas {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        FrameArenas {
            arenas: Default::default(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            frame: 0,
            mode: AllocMode::Arena,
        }
    }

    /// Where the frames' memory comes from from the next swap on. The previous frame keeps
    /// its data (and its mode) until it is reset, so nothing stashed is lost by a switch.
    pub fn set_mode(&mut self, mode: AllocMode) {
        self.mode = mode;
    }

    /// The mode asked for: the current frame's from the next swap on (a frame keeps the
    /// mode it was made current with).
    pub fn mode(&self) -> AllocMode {
        self.mode
    }

    /// The number of swaps so far.
    pub fn frame(&self) -> u64 {
        self.frame
    }

    /// The arena of the current frame.
    pub fn current(&self) -> &Arena {
        &self.arenas[(self.frame % 2) as usize]
    }

    /// The arena of the previous frame (read-only use: its data is still intact).
    pub fn previous(&self) -> &Arena {
        &self.arenas[((self.frame + 1) % 2) as usize]
    }

    /// Ends the frame: the previous frame's arena is reset and becomes current.
    pub fn swap(&mut self) {
        self.frame += 1;
        let arena = &mut self.arenas[(self.frame % 2) as usize];
        if arena.mode() == self.mode {
            arena.reset();
        } else {
            arena.set_mode(self.mode);
        }
    }

    /// Copies `src` into the current frame and returns a handle that outlives the borrow.
    pub fn stash<T: Copy>(&self, src: &[T]) -> FrameSlice<T> {
        let slice = self.current().alloc_slice_copy(src);
        self.handle(slice)
    }

    /// [`FrameArenas::stash`], copied by the current rayon pool's workers when `src` has
    /// more than `min_len` elements ([`Arena::par_alloc_slice_copy`]).
    pub fn par_stash<T: Copy + Send + Sync>(&self, src: &[T], min_len: usize) -> FrameSlice<T> {
        let slice = self.current().par_alloc_slice_copy(src, min_len);
        self.handle(slice)
    }

    /// Allocates `len` values in the current frame, the `i`th being `f(i)`, and returns a
    /// handle like [`FrameArenas::stash`] does.
    pub fn stash_fill_with<T: Copy>(&self, len: usize, f: impl FnMut(usize) -> T) -> FrameSlice<T> {
        let slice = self.current().alloc_slice_fill_with(len, f);
        self.handle(slice)
    }

    fn handle<T>(&self, slice: &mut [T]) -> FrameSlice<T> {
        FrameSlice {
            ptr: NonNull::from(&mut *slice).cast(),
            len: slice.len(),
            frame: self.frame,
            owner: self.id,
            _owns: PhantomData,
        }
    }

    /// The stashed slice, if its frame is the current or the previous one.
    pub fn get<T>(&self, slice: &FrameSlice<T>) -> Option<&[T]> {
        let age = self.frame.checked_sub(slice.frame)?;
        if age > 1 || slice.owner != self.id {
            return None;
        }
        // This instance (`owner` matches) wrote the slice in the arena of frame `slice.frame`,
        // which only the swap making frame `slice.frame + 2` current resets; `age <= 1`.
        // SAFETY: so the memory is live, and `stash` initialised all `len` elements; only
        // shared access is given out, and `swap` (the only call that resets an arena) needs
        // `&mut self`.
        Some(unsafe { std::slice::from_raw_parts(slice.ptr.as_ptr(), slice.len) })
    }

    /// Stats of both arenas: used and capacity summed, high-water of the larger.
    pub fn stats(&self) -> ArenaStats {
        let [a, b] = [self.arenas[0].stats(), self.arenas[1].stats()];
        ArenaStats {
            used: a.used + b.used,
            capacity: a.capacity + b.capacity,
            high_water: a.high_water.max(b.high_water),
            allocations: a.allocations + b.allocations,
            allocated_bytes: a.allocated_bytes + b.allocated_bytes,
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Arena> = RefCell::new(Arena::new());
}

/// Runs `f` with this thread's scratch arena, reset first. Usable inside rayon workers:
/// each thread has its own arena, which keeps its chunk between calls, so steady use does
/// not allocate. A nested call gets a temporary arena instead of the busy one.
///
/// ```
/// use rayon::prelude::*;
/// let sums: Vec<u32> = (0..4u32).into_par_iter().map(|i| {
///     engine::arena::with_thread_scratch(|scratch| {
///         let tmp = scratch.alloc_slice_fill_with(100, |j| i + j as u32);
///         tmp.iter().sum()
///     })
/// }).collect();
/// assert_eq!(sums[1], (0..100).map(|j| 1 + j).sum::<u32>());
/// ```
pub fn with_thread_scratch<R>(f: impl FnOnce(&Arena) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut arena) => {
            arena.reset();
            f(&arena)
        }
        Err(_) => f(&Arena::new()),
    })
}

/// High-water stats of this thread's scratch arena.
pub fn thread_scratch_stats() -> ArenaStats {
    SCRATCH.with(|cell| cell.try_borrow().map(|a| a.stats()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(align(64))]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Line([u8; 64]);

    #[repr(align(4096))]
    #[derive(Clone, Copy)]
    struct Page(u8);

    #[test]
    fn a_parallel_copy_equals_the_source_for_every_split() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        pool.install(|| {
            let arena = Arena::new();
            for n in [0, 1, 2, 7, 64, 129] {
                let src: Vec<Line> = (0..n).map(|i| Line([i as u8; 64])).collect();
                for min_len in [0, 1, 5, 200] {
                    let copy = arena.par_alloc_slice_copy(&src, min_len);
                    assert_eq!(copy, &src[..], "n = {n}, min_len = {min_len}");
                    assert_eq!(copy.as_ptr().addr() % 64, 0, "aligned");
                }
            }
            // A zero-sized type takes no memory either way.
            assert_eq!(arena.par_alloc_slice_copy(&[(); 50], 2).len(), 50);
        });
    }

    #[test]
    fn every_allocation_is_aligned() {
        let arena = Arena::with_capacity(100);
        for i in 0..200u8 {
            let _odd = arena.alloc(i); // misalign the bump pointer
            let line = arena.alloc(Line([i; 64]));
            assert_eq!(line as *const Line as usize % 64, 0);
            assert_eq!(line.0[63], i);
            let lines = arena.alloc_slice_copy(&[Line([1; 64]); 3]);
            assert_eq!(lines.as_ptr() as usize % 64, 0);
        }
        let page = arena.alloc(Page(7));
        assert_eq!(page as *const Page as usize % 4096, 0);
        assert_eq!(page.0, 7);
    }

    #[test]
    fn allocations_do_not_overlap_and_keep_values() {
        let arena = Arena::with_capacity(64);
        let refs: Vec<&mut u64> = (0..1000).map(|i| arena.alloc(i)).collect();
        for (i, r) in refs.iter().enumerate() {
            assert_eq!(**r, i as u64);
        }
    }

    #[test]
    fn used_counts_only_the_padding_alignment_needs() {
        let arena = Arena::with_capacity(100); // not a whole number of alignment units
        arena.alloc(0u64);
        arena.alloc(0u32);
        assert_eq!(arena.stats().used, 12);
        arena.alloc(0u64); // 4 bytes of padding below the u32
        assert_eq!(arena.stats().used, 24);
    }

    #[test]
    fn grows_past_any_first_chunk_without_panicking() {
        let arena = Arena::with_capacity(16);
        let big = arena.alloc_slice_fill_with(100_000, |i| i as u32);
        assert_eq!(big[99_999], 99_999);
        assert!(arena.stats().capacity >= 400_000);
    }

    #[test]
    fn strings_and_zero_sized_values() {
        let arena = Arena::new();
        let s = arena.alloc_str("héllo");
        s.make_ascii_uppercase();
        assert_eq!(s, "HéLLO");
        let empty: &mut [u64] = arena.alloc_slice_copy(&[]);
        assert!(empty.is_empty());
        let unit = arena.alloc(());
        assert_eq!(*unit, ());
    }

    #[test]
    fn zero_length_allocations_take_no_chunk() {
        let arena = Arena::new();
        let empty: &mut [Line] = arena.alloc_slice_fill_with(0, |_| unreachable!());
        assert!(empty.is_empty());
        assert_eq!(empty.as_ptr() as usize % 64, 0, "still aligned");
        arena.alloc(());
        arena.alloc_str("");
        assert_eq!(arena.stats(), ArenaStats::default(), "no chunk was taken");
    }

    #[test]
    fn reset_keeps_the_largest_chunk_so_steady_use_stops_growing() {
        let mut arena = Arena::with_capacity(64);
        let mut capacities = Vec::new();
        for _ in 0..6 {
            for i in 0..500u64 {
                arena.alloc(i);
            }
            capacities.push(arena.stats().capacity);
            arena.reset();
            assert_eq!(arena.stats().used, 0);
        }
        // After the first frame or two the arena has one chunk that fits the frame.
        assert_eq!(capacities[3], capacities[5], "{capacities:?}");
        assert!(arena.stats().high_water >= 500 * 8);
    }

    #[test]
    fn previous_frame_is_readable_until_the_next_swap() {
        let mut frames = FrameArenas::new();
        let a = frames.stash(&[Line([1; 64])]);
        frames.swap();
        let b = frames.stash(&[2u32, 3]);
        assert_eq!(frames.get(&a).unwrap()[0], Line([1; 64]));
        assert_eq!(frames.get(&b), Some(&[2, 3][..]));
        frames.swap();
        assert!(frames.get(&a).is_none());
        assert_eq!(frames.get(&b), Some(&[2, 3][..]));
        frames.swap();
        assert!(frames.get(&b).is_none());
        let other = FrameArenas::new();
        let c = other.stash(&[9u8]);
        assert!(
            frames.get(&c).is_none(),
            "a handle only resolves in its own arenas"
        );
    }

    #[test]
    fn heap_mode_gives_each_request_its_own_block_and_frees_them_on_reset() {
        let mut arena = Arena::new();
        arena.set_mode(AllocMode::Heap);
        let n = if cfg!(miri) { 20 } else { 500 };
        let refs: Vec<&mut u64> = (0..n).map(|i| arena.alloc(i)).collect();
        for (i, r) in refs.iter().enumerate() {
            assert_eq!(**r, i as u64);
        }
        let line = arena.alloc(Line([3; 64]));
        assert_eq!(
            line as *const Line as usize % 64,
            0,
            "blocks keep alignment"
        );
        let first = arena.stats();
        assert!(
            first.allocations > n + 1,
            "the block list's growth counts too"
        );
        assert_eq!(first.used, n as usize * 8 + 64);
        arena.reset();
        assert_eq!(arena.stats().capacity, 0, "reset frees every block");
        assert_eq!(arena.stats().allocations, 0);
        // Once the block list has grown, a frame costs one allocation per request.
        (0..n).for_each(|i| {
            arena.alloc(i);
        });
        arena.alloc(Line([3; 64]));
        let warm = arena.stats();
        assert_eq!(warm.allocations, n + 1);
        assert_eq!(warm.allocated_bytes, n as usize * 8 + 64);
        assert_eq!(warm.used, warm.allocated_bytes);
        arena.reset();
        arena.set_mode(AllocMode::Arena);
        arena.alloc_slice_copy(&[1u8; 100]);
        assert_eq!(arena.stats().allocations, 1, "one chunk");
        arena.reset();
        arena.alloc_slice_copy(&[1u8; 100]);
        assert_eq!(arena.stats().allocations, 0, "the chunk is reused");
    }

    #[test]
    fn a_mode_switch_keeps_the_previous_frame_readable() {
        let mut frames = FrameArenas::new();
        let a = frames.stash(&[1u32, 2]);
        frames.set_mode(AllocMode::Heap);
        frames.swap();
        assert_eq!(frames.mode(), AllocMode::Heap);
        assert_eq!(
            frames.get(&a),
            Some(&[1, 2][..]),
            "stashed in arena mode, still there"
        );
        let b = frames.stash(&[3u32]);
        // The block, and the block list's first growth.
        assert_eq!(frames.current().stats().allocations, 2);
        frames.set_mode(AllocMode::Arena);
        frames.swap();
        assert_eq!(
            frames.get(&b),
            Some(&[3][..]),
            "stashed in heap mode, still there"
        );
        assert!(frames.get(&a).is_none());
        frames.swap();
        assert!(frames.get(&b).is_none());
        assert_eq!(frames.previous().mode(), AllocMode::Arena);
    }

    #[test]
    fn alloc_modes_parse_by_name() {
        for mode in AllocMode::ALL {
            assert_eq!(mode.name().parse::<AllocMode>(), Ok(mode));
            assert_eq!(mode.toggled().toggled(), mode);
        }
        assert!(
            "stack"
                .parse::<AllocMode>()
                .unwrap_err()
                .contains("arena or heap")
        );
    }

    #[test]
    fn thread_scratch_works_in_parallel_and_nested() {
        use rayon::prelude::*;
        let n = if cfg!(miri) { 4 } else { 64 };
        let totals: Vec<u64> = (0..n)
            .into_par_iter()
            .map(|i: u64| {
                with_thread_scratch(|outer| {
                    let xs = outer.alloc_slice_fill_with(256, |j| i * j as u64);
                    let inner = with_thread_scratch(|inner| *inner.alloc(5u64));
                    xs.iter().sum::<u64>() + inner
                })
            })
            .collect();
        for (i, t) in totals.iter().enumerate() {
            assert_eq!(*t, i as u64 * (0..256).sum::<u64>() + 5);
        }
        with_thread_scratch(|a| a.alloc_slice_copy(&[1u8; 100]).len());
        assert!(thread_scratch_stats().used >= 100);
    }
}
