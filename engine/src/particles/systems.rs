//! The particle kernels, each written once over [`Rows`] (or [`Lanes`]) and monomorphised
//! per layout.
//!
//! Each function handles one chunk of rows (the preset splits the storage across rayon
//! workers with [`for_each_chunk`]). Per-particle work is plain arithmetic on the row's
//! fields; loops stay free of dynamic dispatch so the SoA instantiation vectorises where the
//! work allows.

use super::particle::{self, Particle};
use crate::counters::{CounterId, Counters};
use crate::entity::Entity;
use crate::grid::{Grid, RunsNear};
use crate::lanes::{Lanes, PairKernel, Pairs};
use crate::parallel::for_each_chunk;
use crate::storage::{ByLayout, Rows, RowsMut};
use crate::world::{CommandWriter, Commands};
use glam::{Vec2, Vec4};
use std::sync::atomic::{AtomicU64, Ordering};

/// The most attractors a scene may have (the mouse adds one more).
pub const MAX_ATTRACTORS: usize = 8;

/// A point attractor in a form ready for the inner loop (the scene's [`scene::Attractor`](super::scene::Attractor), with its softening squared).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Attractor {
    /// Where it pulls to.
    pub position: Vec2,
    /// `strength` of the 1/d law (negative repels).
    pub strength: f32,
    /// Softening length squared.
    pub softening2: f32,
}

/// Parameters of the forces system: shared read-mostly between workers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ForceField {
    /// Active attractors (`attractors[..count]`); the mouse is one of them when held.
    pub attractors: [Attractor; MAX_ATTRACTORS + 1],
    /// How many of `attractors` are active.
    pub count: usize,
    /// Neighbour repulsion radius (0: off).
    pub repulsion_radius: f32,
    /// Neighbour repulsion strength.
    pub repulsion_strength: f32,
}

impl ForceField {
    /// Whether the forces system has anything to do.
    pub fn is_active(&self) -> bool {
        self.count > 0 || self.repulsion_radius > 0.0
    }
}

/// Where [`repulsion`] counts its neighbour work.
pub struct NeighbourTally<'c> {
    /// The world's counters.
    pub counters: &'c Counters,
    /// Grid cells visited by neighbour queries.
    pub cells_visited: CounterId,
    /// Candidates tested for repulsion.
    pub neighbour_checks: CounterId,
}

/// Applies attractors and neighbour repulsion to the velocities of one chunk of rows, the
/// first of them being row `first` of the storage.
///
/// The repulsion comes precomputed ([`repulsion`]), one push per particle in the grid's
/// cell order: that is where the time goes.
pub fn forces<'a>(
    rows: impl Rows<'a, Item = particle::Mut<'a>>,
    first: usize,
    field: &ForceField,
    pushes: Option<&Pushes>,
    dt: f32,
) {
    let mut row = first;
    rows.for_each(|p| {
        let accel = acceleration(*p.position, row, field, pushes);
        row += 1;
        *p.velocity += accel * (dt / *p.mass);
    });
}

/// [`forces`] on one chunk of SoA columns, four rows at a time with x and y in `Vec4`
/// lanes, so each of the divisions (one per attractor and the `dt / mass`) is one `divps`
/// for four rows; every lane goes through the same IEEE operations in the same order as
/// the row version, so the bits are the same (a test compares them). The last 0–3 rows
/// take the row version's arithmetic.
pub fn forces_columns(
    position: &[Vec2],
    velocity: &mut [Vec2],
    mass: &[f32],
    first: usize,
    field: &ForceField,
    pushes: Option<&Pushes>,
    dt: f32,
) {
    let xs = |r: &[Vec2; 4]| Vec4::new(r[0].x, r[1].x, r[2].x, r[3].x);
    let ys = |r: &[Vec2; 4]| Vec4::new(r[0].y, r[1].y, r[2].y, r[3].y);
    let (p4, p_rest) = position.as_chunks::<4>();
    let (v4, v_rest) = velocity.as_chunks_mut::<4>();
    let (m4, m_rest) = mass.as_chunks::<4>();
    for (i, ((p, v), m)) in p4.iter().zip(v4).zip(m4).enumerate() {
        let (x, y) = (xs(p), ys(p));
        let (mut ax, mut ay) = (Vec4::ZERO, Vec4::ZERO);
        for a in &field.attractors[..field.count] {
            let (dx, dy) = (Vec4::splat(a.position.x) - x, Vec4::splat(a.position.y) - y);
            let f = Vec4::splat(a.strength) / ((dx * dx + dy * dy) + Vec4::splat(a.softening2));
            (ax, ay) = (ax + dx * f, ay + dy * f);
        }
        if let Some(pushes) = pushes {
            let row = first + 4 * i;
            let push: [Vec2; 4] = std::array::from_fn(|k| pushes.of_row(row + k));
            let strength = Vec4::splat(field.repulsion_strength);
            ax += xs(&push) * strength;
            ay += ys(&push) * strength;
        }
        let scale = Vec4::splat(dt) / Vec4::from_array(*m);
        let (vx, vy) = (xs(v) + ax * scale, ys(v) + ay * scale);
        *v = std::array::from_fn(|k| Vec2::new(vx[k], vy[k]));
    }
    let rest = first + 4 * p4.len();
    for (k, ((p, v), m)) in p_rest.iter().zip(v_rest).zip(m_rest).enumerate() {
        *v += acceleration(*p, rest + k, field, pushes) * (dt / *m);
    }
}

/// The acceleration of a unit mass at `here`, row `row`: the attractors' pulls, then the
/// repulsion's push.
#[inline(always)]
fn acceleration(here: Vec2, row: usize, field: &ForceField, pushes: Option<&Pushes>) -> Vec2 {
    let mut accel = Vec2::ZERO;
    for a in &field.attractors[..field.count] {
        let d = a.position - here;
        accel += d * (a.strength / (d.length_squared() + a.softening2));
    }
    if let Some(pushes) = pushes {
        accel += pushes.of_row(row) * field.repulsion_strength;
    }
    accel
}

/// The neighbour repulsion on every particle of a grid ([`repulsion`]), before scaling by
/// the strength, and the grid it was computed on.
pub struct Pushes<'g> {
    grid: &'g Grid<'g>,
    by_slot: &'g [Vec2],
}

impl<'g> Pushes<'g> {
    /// `by_slot[k]` is the push on the particle in slot `k` of `grid`'s
    /// [`cell_order`](Grid::cell_order).
    ///
    /// # Panics
    /// If `by_slot` does not have one push per binned row.
    pub fn new(grid: &'g Grid<'g>, by_slot: &'g [Vec2]) -> Self {
        assert_eq!(
            by_slot.len(),
            grid.cell_order().len(),
            "one push per binned row"
        );
        Pushes { grid, by_slot }
    }

    /// The push on row `row` of the positions the grid was built from.
    #[inline]
    pub fn of_row(&self, row: usize) -> Vec2 {
        self.by_slot[self.grid.slot_of(row)]
    }
}

/// Fills `out` with the repulsion pushes, before scaling by the strength, on the particles
/// in slots `first..first + out.len()` of `grid`'s cell order, from the candidates of the
/// 3x3 cells around each; counts the cells visited and candidates tested into `tally`.
///
/// The particles of one cell share their candidates: the three runs of them (one per grid
/// row) are copied once, back to back, into a buffer that every particle of the cell then
/// reads [`LANES`] candidates at a time, with no tail to mask (padded to whole lanes).
///
/// # Panics
/// If the slots run past the grid's rows.
pub fn repulsion(grid: &Grid, radius: f32, first: usize, out: &mut [Vec2], tally: &NeighbourTally) {
    repulsion_slots(grid, &Repulsion::new(radius), first, out, tally);
}

/// [`repulsion`] with its kernel made. Compiled twice: for baseline x86-64 and for AVX2
/// (picked at run time when the CPU has it). The lane loop is the same IEEE arithmetic in
/// both, eight lanes as two SSE vectors or one AVX one (Rust never fuses a multiply and an
/// add on its own), so both give the same bits; a test runs both on the same grid. The query
/// is an iterator, not a closure, so the whole loop is inlined into each clone.
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn repulsion_slots(
    grid: &Grid,
    kernel: &Repulsion,
    first: usize,
    out: &mut [Vec2],
    tally: &NeighbourTally,
) {
    multiversion::target::match_target! {
        "x86_64+avx2" => repulsion_cells(
            grid,
            first,
            out,
            tally,
            avx2::zero(),
            |c, here, sums| avx2::push_on(c, here, kernel, sums),
            |sums| avx2::total(sums),
        ),
        _ => repulsion_slots_baseline(grid, kernel, first, out, tally),
    }
}

/// [`repulsion_slots`] on the baseline instruction set; the tests call it directly.
#[inline(always)]
fn repulsion_slots_baseline(
    grid: &Grid,
    kernel: &Repulsion,
    first: usize,
    out: &mut [Vec2],
    tally: &NeighbourTally,
) {
    repulsion_cells(
        grid,
        first,
        out,
        tally,
        LaneSums::default(),
        |c, here, sums| c.push_on(here, kernel, sums),
        LaneSums::total,
    );
}

/// The loop of [`repulsion`] over cells. A particle's lane sums start at `zero`, each
/// batch of its candidates is added by `push_on` (as [`Candidates::push_on`] does) and
/// `total` adds up the lanes (as [`LaneSums::total`] does); the sums are a value, so each
/// instruction set keeps them in its own registers.
#[inline(always)]
fn repulsion_cells<S: Copy>(
    grid: &Grid,
    first: usize,
    out: &mut [Vec2],
    tally: &NeighbourTally,
    zero: S,
    push_on: impl Fn(&Candidates, Vec2, S) -> S,
    total: impl Fn(S) -> Vec2,
) {
    let (xs, ys) = grid.sorted_positions();
    let at = |k: usize| Vec2::new(xs[k], ys[k]);
    let mut candidates = Candidates::new();
    let (mut k, end) = (first, first + out.len());
    while k < end {
        let cell_end = grid.slots_in_cell_of(at(k)).end.min(end);
        let runs = grid.runs_near(at(k));
        // Counted once per cell's particles: still often enough for counter padding to
        // show (two adds for every few particles).
        let count = (cell_end - k) as u64;
        let checks = candidates.fill((xs, ys), runs.clone(), 0);
        let counters = tally.counters;
        counters.add(tally.cells_visited, u64::from(runs.cells()) * count);
        counters.add(tally.neighbour_checks, checks as u64 * count);
        let batches = checks.div_ceil(Candidates::BATCH);
        for (slot, push) in (k..cell_end).zip(&mut out[k - first..cell_end - first]) {
            let mut sums = zero;
            for batch in 0..batches {
                if batches > 1 {
                    candidates.fill((xs, ys), runs.clone(), batch);
                }
                sums = push_on(&candidates, at(slot), sums);
            }
            *push = total(sums);
        }
        k = cell_end;
    }
}

/// Lanes of the repulsion loop: candidate `j` of a particle's list always goes to lane
/// `j % LANES`, whatever the instruction set.
pub const LANES: usize = 8;

/// One cell's candidates, the runs of its 3x3 cells back to back, a batch at a time.
///
/// A batch is a whole number of [`LANES`], so the lane of a candidate does not depend on
/// the batch it falls in; the last batch is padded to whole lanes with a candidate so far
/// away that its push is a zero ([`Candidates::FAR`]), which leaves every sum exactly as it
/// was. Runs are copied
/// a whole block of lanes at a time (the last block of a run may bring in candidates past
/// it, which the next run or the padding then overwrites): no call to `memcpy` per run.
struct Candidates {
    xs: [f32; Candidates::ROOM],
    ys: [f32; Candidates::ROOM],
    /// Candidates in the batch, padding included (a multiple of [`LANES`]).
    len: usize,
}

impl Candidates {
    /// Candidates per batch: a cell of the 500k swarm has about 27.
    const BATCH: usize = 32 * LANES;

    /// A batch and one more block, where the last block of a copy or the padding may land.
    const ROOM: usize = Self::BATCH + LANES;

    /// Where the padding sits: `d` is finite but `|d|²` overflows to infinity, so its
    /// weight is 0 and its push `d * 0` is ±0.0 for any finite particle (lane sums start at
    /// +0.0 and so never hold -0.0: either zero leaves them as they are).
    const FAR: f32 = 1e30;

    fn new() -> Candidates {
        Candidates {
            xs: [Self::FAR; Self::ROOM],
            ys: [Self::FAR; Self::ROOM],
            len: 0,
        }
    }

    /// Loads batch `batch` of the candidates of `runs`, whose slots index `sorted` (the
    /// grid's sorted positions); returns how many candidates the runs hold in all.
    #[inline(always)]
    fn fill(&mut self, sorted: (&[f32], &[f32]), runs: RunsNear, batch: usize) -> usize {
        let (from, to) = (batch * Self::BATCH, (batch + 1) * Self::BATCH);
        let (mut seen, mut n) = (0, 0);
        for run in runs {
            let len = run.xs.len();
            let (a, b) = (from.max(seen), to.min(seen + len));
            if a < b {
                let first = run.first + a - seen;
                copy_blocks(&mut self.xs, n, sorted.0, first, b - a);
                copy_blocks(&mut self.ys, n, sorted.1, first, b - a);
                n += b - a;
            }
            seen += len;
        }
        self.len = n.next_multiple_of(LANES);
        self.xs[n..n + LANES].copy_from_slice(&[Self::FAR; LANES]);
        self.ys[n..n + LANES].copy_from_slice(&[Self::FAR; LANES]);
        seen
    }

    /// Adds the pushes of the loaded batch on a particle at `here` to its lane sums, each
    /// [`LANES`] candidates as two `Vec4`s.
    #[inline(always)]
    fn push_on(&self, here: Vec2, kernel: &Repulsion, mut sums: LaneSums) -> LaneSums {
        let (hx, hy) = (Vec4::splat(here.x), Vec4::splat(here.y));
        let add = |(sx, sy): &mut (Vec4, Vec4), x: &[f32], y: &[f32]| {
            let (dx, dy) = (hx - Vec4::from_slice(x), hy - Vec4::from_slice(y));
            let w = kernel.weight(dx * dx + dy * dy);
            (*sx, *sy) = (*sx + dx * w, *sy + dy * w);
        };
        let (x8, _) = self.xs[..self.len].as_chunks::<LANES>();
        let (y8, _) = self.ys[..self.len].as_chunks::<LANES>();
        for (x, y) in x8.iter().zip(y8) {
            add(&mut sums.low, &x[..4], &y[..4]);
            add(&mut sums.high, &x[4..], &y[4..]);
        }
        sums
    }
}

/// Copies `src[first..first + len]` to `dst[at..at + len]` a block of [`LANES`] at a time,
/// the last block whole (so up to `LANES - 1` values past the end land after it), except
/// at the very end of `src`.
#[inline(always)]
fn copy_blocks(dst: &mut [f32], at: usize, src: &[f32], first: usize, len: usize) {
    for i in (0..len).step_by(LANES) {
        let (from, to) = (first + i, at + i);
        match src.get(from..from + LANES) {
            Some(block) => dst[to..to + LANES].copy_from_slice(block),
            None => {
                let rest = len - i;
                dst[to..to + rest].copy_from_slice(&src[from..from + rest]);
            }
        }
    }
}

/// A particle's push summed per lane: x and y of lanes 0–3, then of lanes 4–7.
#[derive(Clone, Copy, Default)]
struct LaneSums {
    low: (Vec4, Vec4),
    high: (Vec4, Vec4),
}

impl LaneSums {
    /// The lanes added in a fixed tree: pairs, then pairs of pairs (glam's `element_sum`
    /// order depends on its backend).
    #[inline(always)]
    fn total(self) -> Vec2 {
        let sum = |v: Vec4| (v.x + v.y) + (v.z + v.w);
        let (low, high) = (self.low, self.high);
        Vec2::new(sum(low.0) + sum(high.0), sum(low.1) + sum(high.1))
    }
}

/// The repulsion between neighbours: a neighbour at offset `d` (from it to the particle)
/// pushes with `d * weight(|d|²)`, a push of length `1 - |d|/r` for `|d|` well above the
/// softening: strongest at contact, falling linearly to zero at the radius `r`, so particles
/// pushed together are pushed apart hardest (the swarm keeps a bounded density). One square
/// root and one division per candidate, both correctly rounded, so every strategy, thread
/// count and instruction set gives the same bits. The particle itself (`d = 0`) pushes with
/// zero.
#[derive(Clone, Copy, Debug)]
pub struct Repulsion {
    inv_r: f32,
    soft2: f32,
}

impl Repulsion {
    /// Softening length as a fraction of the radius: keeps the weight finite at `d = 0`.
    const SOFTENING: f32 = 0.01;

    /// The kernel for radius `r`.
    pub fn new(r: f32) -> Repulsion {
        let soft = Self::SOFTENING * r;
        Repulsion {
            inv_r: 1.0 / r,
            soft2: soft * soft,
        }
    }

    /// `max(1/sqrt(d² + s²) - 1/r, 0)` per lane (on x86, 0 where `d²` is NaN: `maxps`
    /// takes its second operand then, as the AVX2 clone's `vmaxps` does).
    #[inline(always)]
    pub fn weight(&self, d2: Vec4) -> Vec4 {
        let w = Vec4::ONE / (d2 + Vec4::splat(self.soft2)).sqrt() - Vec4::splat(self.inv_r);
        w.max(Vec4::ZERO)
    }
}

/// Parameters of the integrate system.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Motion {
    /// Step length in seconds.
    pub dt: f32,
    /// Gravity times `dt`.
    pub gravity_dt: Vec2,
    /// Velocity factor per step from drag, `1 - drag * dt`.
    pub damping: f32,
    /// World size: walls at 0 and here.
    pub bounds: Vec2,
    /// Fraction of speed kept by a bounce.
    pub restitution: f32,
}

impl PairKernel for Motion {
    type Params<L: Lanes> = MotionLanes<L>;

    fn params<L: Lanes>(&self) -> MotionLanes<L> {
        MotionLanes {
            dt: L::repeat(Vec2::splat(self.dt)),
            gravity_dt: L::repeat(self.gravity_dt),
            damping: L::repeat(Vec2::splat(self.damping)),
            bounds: L::repeat(self.bounds),
            bounce: L::repeat(Vec2::splat(-self.restitution)),
        }
    }

    /// Gravity, drag, semi-implicit (symplectic) Euler and wall bounces on one lane group
    /// of positions and velocities. Branch-free (selects, not jumps). Returns the number of
    /// components that hit a wall; a NaN position counts as a hit.
    #[inline(always)]
    fn apply<L: Lanes>(k: &MotionLanes<L>, position: &mut L, velocity: &mut L) -> u32 {
        let v = (*velocity + k.gravity_dt) * k.damping;
        let x = *position + v * k.dt;
        let inside = x.max(L::ZERO).min(k.bounds);
        // Clamping moved it exactly when it was outside (or NaN): one compare, not four.
        let out = inside.cmpne(x);
        *position = inside;
        *velocity = v * L::select(out, k.bounce, L::ONE);
        L::count(out)
    }
}

/// [`Motion`] spread over the lanes of `L`.
#[derive(Clone, Copy, Debug)]
pub struct MotionLanes<L> {
    dt: L,
    gravity_dt: L,
    damping: L,
    bounds: L,
    /// The velocity factor of a bounce: `-restitution`.
    bounce: L,
}

/// Gravity, drag, symplectic Euler and wall bounces for every row, split into chunks of
/// `chunk_rows` over the current rayon pool. Returns the bounces.
///
/// SoA columns run the kernel on `Vec4` lanes holding two particles (see [`Pairs`]), or,
/// when the CPU has AVX2 (detected at run time), on 256-bit vectors holding four; AoS rows
/// run it on one `Vec2` per particle. Every lane does the same IEEE operations in every
/// case, so layouts and instruction sets give bit-identical results (for NaN lanes, the
/// same NaN-ness: Rust leaves NaN bits open).
pub fn integrate(rows: RowsMut<'_, Particle>, m: &Motion, chunk_rows: usize) -> u64 {
    let bounces = AtomicU64::new(0);
    let add = |n: u64| {
        if n > 0 {
            bounces.fetch_add(n, Ordering::Relaxed);
        }
    };
    match rows {
        ByLayout::Soa(columns) => {
            let pairs = Pairs::new(columns.position, columns.velocity)
                .expect("the columns of one storage have one length");
            for_each_chunk(pairs, chunk_rows, &|chunk, _| {
                add(integrate_columns(chunk, m))
            });
        }
        ByLayout::Aos(rows) => {
            for_each_chunk(rows, chunk_rows, &|chunk, _| add(integrate_rows(chunk, m)))
        }
    }
    bounces.into_inner()
}

/// [`integrate`] on one chunk of SoA columns. With AVX2 (detected at run time), four
/// particles per 256-bit vector ([`avx2::integrate`]); otherwise two per `Vec4`
/// ([`integrate_columns_baseline`]). The same bits either way: a test runs both.
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn integrate_columns(pairs: Pairs<'_>, m: &Motion) -> u64 {
    multiversion::target::match_target! {
        "x86_64+avx2" => avx2::integrate(pairs, m),
        _ => integrate_columns_baseline(pairs, m),
    }
}

/// [`integrate_columns`] on the baseline instruction set: [`Motion::apply`] on `Vec4` lanes.
#[inline(always)]
fn integrate_columns_baseline(pairs: Pairs<'_>, m: &Motion) -> u64 {
    pairs.run(m)
}

/// The two AVX2 kernels: [`Motion::apply`] on 256-bit vectors, four interleaved particles
/// `x0 y0 .. x3 y3` ([`avx2::integrate`]), and the repulsion's lane loop, eight candidates
/// in one vector ([`avx2::push_on`]; it follows [`Candidates::push_on`] lane for lane).
///
/// Written with `core::arch` intrinsics because no safe, stable type gives LLVM eight
/// `f32` lanes to keep (glam's `Vec4` is SSE; an eight-`f32` array gets vectorised across
/// loop iterations instead, with a gather per lane). Each lane does the same IEEE
/// operations, in the same order, as `Motion::apply` on `Vec4`: `max`, `min` and the
/// not-equal compare are the same instructions, 256 bits wide; the bounce factor is built
/// with bit operations instead of a select but has the same bits. The intrinsics are safe
/// to call here because the functions enable AVX2; they are reached only through the
/// clones of [`integrate_columns`] and `repulsion_slots` that multiversion picks when the
/// CPU has AVX2.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Candidates, LANES, LaneSums, Motion, Repulsion};
    use crate::lanes::Pairs;
    use core::arch::x86_64::*;
    use glam::{Vec2, Vec4, Vec4Swizzles};

    /// Iterations (eight rows each) per flush of the per-lane bounce counts: a lane counts
    /// at most two per iteration, so its 32 bits cannot overflow.
    const BLOCK: usize = 1 << 20;

    /// How far ahead of the loop each column is prefetched, in iterations of eight rows
    /// (64 bytes, one cache line per column): 4 KiB, a page, so the walk to the next page
    /// starts early too (the hardware prefetchers stop at page boundaries). Beyond the
    /// caches it pays: at 4M particles the loop ran at 1.2–1.8× the `stream` bound without
    /// it and 0.6–0.9× with it (`benches/ECS_INTEGRATE.md`, 2026-12-02).
    const AHEAD: usize = 4096 / size_of::<[Vec2; 8]>();

    /// `Motion`'s parameters in every pair of lanes.
    struct Params {
        dt: __m256,
        gravity_dt: __m256,
        damping: __m256,
        bounds: __m256,
        /// `1.0 ^ -restitution` (bits): xor into 1.0 where a wall was hit.
        flip: __m256,
    }

    /// Integrates the rows, eight per iteration (two vectors), the last 0–7 through
    /// [`Pairs::run`]. Returns the bounces.
    #[target_feature(enable = "avx2")]
    pub(super) fn integrate(pairs: Pairs<'_>, m: &Motion) -> u64 {
        let repeat = |xy: Vec2| _mm256_setr_ps(xy.x, xy.y, xy.x, xy.y, xy.x, xy.y, xy.x, xy.y);
        let k = Params {
            dt: _mm256_set1_ps(m.dt),
            gravity_dt: repeat(m.gravity_dt),
            damping: _mm256_set1_ps(m.damping),
            bounds: repeat(m.bounds),
            flip: _mm256_xor_ps(_mm256_set1_ps(1.0), _mm256_set1_ps(-m.restitution)),
        };
        let (positions, velocities) = pairs.into_columns();
        let (p8, p_rest) = positions.as_chunks_mut::<8>();
        let (v8, v_rest) = velocities.as_chunks_mut::<8>();
        let mut bounces = 0u64;
        for (p8, v8) in p8.chunks_mut(BLOCK).zip(v8.chunks_mut(BLOCK)) {
            let (p_next, v_next) = (p8.as_ptr(), v8.as_ptr());
            // -1 (all bits) in a lane per hit, subtracted: per-lane hit counts.
            let mut hits = _mm256_setzero_si256();
            for (i, (p8, v8)) in p8.iter_mut().zip(v8.iter_mut()).enumerate() {
                // A prefetch never faults, so running past the end is harmless.
                _mm_prefetch::<_MM_HINT_T0>(p_next.wrapping_add(i + AHEAD).cast());
                _mm_prefetch::<_MM_HINT_T0>(v_next.wrapping_add(i + AHEAD).cast());
                let (p4, _) = p8.as_chunks_mut::<4>();
                let (v4, _) = v8.as_chunks_mut::<4>();
                for (p, v) in p4.iter_mut().zip(v4) {
                    let (x, v_new, out) = step(&k, load(p), load(v));
                    (*p, *v) = (store(x), store(v_new));
                    hits = _mm256_sub_epi32(hits, _mm256_castps_si256(out));
                }
            }
            let sum = _mm_add_epi32(
                _mm256_castsi256_si128(hits),
                _mm256_extracti128_si256::<1>(hits),
            );
            let lanes = Vec4::from(_mm_castsi128_ps(sum)).to_array();
            bounces += lanes.map(|n| u64::from(n.to_bits())).iter().sum::<u64>();
        }
        let rest = Pairs::new(p_rest, v_rest).expect("columns of equal length");
        bounces + rest.run(m)
    }

    /// A particle's lane sums, x and y, as [`LaneSums`] holds them in two halves.
    pub(super) type Sums = (__m256, __m256);

    /// Lane sums at zero.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn zero() -> Sums {
        (_mm256_setzero_ps(), _mm256_setzero_ps())
    }

    /// [`Candidates::push_on`](super::Candidates::push_on) on 256-bit vectors, the
    /// [`LANES`] candidates in one: the same IEEE operations per lane in the same order
    /// (`maxps` is the same instruction, 256 bits wide), so the same bits.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn push_on(c: &Candidates, here: Vec2, kernel: &Repulsion, sums: Sums) -> Sums {
        let (hx, hy) = (_mm256_set1_ps(here.x), _mm256_set1_ps(here.y));
        let soft2 = _mm256_set1_ps(kernel.soft2);
        let inv_r = _mm256_set1_ps(kernel.inv_r);
        let one = _mm256_set1_ps(1.0);
        let (mut sx, mut sy) = sums;
        let (x8, _) = c.xs[..c.len].as_chunks::<LANES>();
        let (y8, _) = c.ys[..c.len].as_chunks::<LANES>();
        for (x, y) in x8.iter().zip(y8) {
            let dx = _mm256_sub_ps(hx, lanes(x));
            let dy = _mm256_sub_ps(hy, lanes(y));
            let d2 = _mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy));
            let root = _mm256_sqrt_ps(_mm256_add_ps(d2, soft2));
            let w = _mm256_sub_ps(_mm256_div_ps(one, root), inv_r);
            let w = _mm256_max_ps(w, _mm256_setzero_ps());
            sx = _mm256_add_ps(sx, _mm256_mul_ps(dx, w));
            sy = _mm256_add_ps(sy, _mm256_mul_ps(dy, w));
        }
        (sx, sy)
    }

    /// [`LaneSums::total`](super::LaneSums::total) of the lanes: the same tree of adds.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn total((sx, sy): Sums) -> Vec2 {
        let (x, y) = (halves(sx), halves(sy));
        LaneSums {
            low: (x.0, y.0),
            high: (x.1, y.1),
        }
        .total()
    }

    /// Eight candidates' coordinates in one vector (LLVM merges the reads into one load).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn lanes(v: &[f32; LANES]) -> __m256 {
        _mm256_setr_ps(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
    }

    /// The vector as lanes 0–3 and 4–7.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn halves(a: __m256) -> (Vec4, Vec4) {
        (
            Vec4::from(_mm256_castps256_ps128(a)),
            Vec4::from(_mm256_extractf128_ps::<1>(a)),
        )
    }

    /// One group: new positions, new velocities, and the lanes that hit a wall.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn step(k: &Params, position: __m256, velocity: __m256) -> (__m256, __m256, __m256) {
        let v = _mm256_mul_ps(_mm256_add_ps(velocity, k.gravity_dt), k.damping);
        let x = _mm256_add_ps(position, _mm256_mul_ps(v, k.dt));
        let inside = _mm256_min_ps(_mm256_max_ps(x, _mm256_setzero_ps()), k.bounds);
        let out = _mm256_cmp_ps::<_CMP_NEQ_UQ>(inside, x);
        let factor = _mm256_xor_ps(_mm256_set1_ps(1.0), _mm256_and_ps(out, k.flip));
        (inside, _mm256_mul_ps(v, factor), out)
    }

    /// Four rows in one vector (LLVM merges the eight reads into one load).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn load(r: &[Vec2; 4]) -> __m256 {
        _mm256_setr_ps(
            r[0].x, r[0].y, r[1].x, r[1].y, r[2].x, r[2].y, r[3].x, r[3].y,
        )
    }

    /// The vector as four rows (LLVM merges the writes into one store).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn store(a: __m256) -> [Vec2; 4] {
        let lo = Vec4::from(_mm256_castps256_ps128(a));
        let hi = Vec4::from(_mm256_extractf128_ps::<1>(a));
        [lo.xy(), lo.zw(), hi.xy(), hi.zw()]
    }
}

/// [`integrate`] on rows visited one by one (the AoS path, also usable on any rows).
pub fn integrate_rows<'a>(rows: impl Rows<'a, Item = particle::Mut<'a>>, m: &Motion) -> u64 {
    let lanes = m.params::<Vec2>();
    let mut bounces = 0u64;
    rows.for_each(|p| bounces += u64::from(Motion::apply(&lanes, p.position, p.velocity)));
    bounces
}

/// Ages every row, a chunk of `chunk_rows` at a time on the pool; particles past their
/// lifetime are queued for despawn through one writer per chunk (keyed by its first row),
/// and `deaths` gets each chunk's count. On SoA the ages are stepped in blocks of
/// [`AGE_BLOCK`] that vectorise, and only a block with a death is scanned for it; AoS runs
/// the same arithmetic row by row ([`age_rows`]). Same bits, same despawns in the same order.
pub fn age(
    rows: RowsMut<'_, Particle>,
    dt: f32,
    chunk_rows: usize,
    commands: &Commands<Particle>,
    deaths: &(impl Fn(u64) + Sync),
) {
    match rows {
        ByLayout::Soa(columns) => for_each_chunk(columns, chunk_rows, &|c, first| {
            let mut writer = commands.writer(first);
            deaths(age_columns(c.age, c.lifetime, c.entity, dt, &mut writer));
        }),
        ByLayout::Aos(rows) => for_each_chunk(rows, chunk_rows, &|c, first| {
            deaths(age_rows(c, dt, &mut commands.writer(first)));
        }),
    }
}

/// Rows per block when [`age`] runs on SoA columns: the ages of a block are stepped and
/// compared together.
pub const AGE_BLOCK: usize = 32;

/// [`age`] on SoA columns: `age += dt` for a block at once, then, only where one of them
/// reached its `lifetime`, the despawns in row order. Returns the deaths.
fn age_columns(
    ages: &mut [f32],
    lifetimes: &[f32],
    entities: &[Entity],
    dt: f32,
    commands: &mut CommandWriter<'_, Particle>,
) -> u64 {
    // The dead rows are gathered first and their entities read in a burst: deaths are rare
    // and scattered, and the entity column is not otherwise read, so each read is a cache
    // miss; issued together, the misses overlap instead of one waiting for the next.
    let mut dead = [0u32; DEATHS_PER_BURST];
    let mut queued = 0;
    let mut died = 0;
    let mut flush = |dead: &[u32]| {
        for &row in dead {
            commands.despawn(entities[row as usize]);
        }
        died += dead.len() as u64;
    };
    let blocks = ages.chunks_mut(AGE_BLOCK).zip(lifetimes.chunks(AGE_BLOCK));
    for (k, (ages, lifetimes)) in blocks.enumerate() {
        let mut any = false;
        for (a, l) in ages.iter_mut().zip(lifetimes) {
            *a += dt;
            any |= *a >= *l;
        }
        if !any {
            continue;
        }
        for (i, (a, l)) in ages.iter().zip(lifetimes).enumerate() {
            if *a >= *l {
                if queued == DEATHS_PER_BURST {
                    flush(&dead);
                    queued = 0;
                }
                dead[queued] = (k * AGE_BLOCK + i) as u32;
                queued += 1;
            }
        }
    }
    flush(&dead[..queued]);
    died
}

/// Dead rows [`age_columns`] gathers before reading their entities.
const DEATHS_PER_BURST: usize = 64;

/// Ages one chunk of rows; particles past their lifetime are queued for despawn. Returns
/// the deaths.
pub fn age_rows<'a>(
    rows: impl Rows<'a, Item = particle::Mut<'a>>,
    dt: f32,
    commands: &mut CommandWriter<'_, Particle>,
) -> u64 {
    let mut died = 0;
    rows.for_each(|p| {
        *p.age += dt;
        if *p.age >= *p.lifetime {
            commands.despawn(*p.entity);
            died += 1;
        }
    });
    died
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::Padding;
    use crate::entity::EntityAllocator;
    use crate::storage::{AosMut, AosRow};
    use crate::sync::LockStrategy;
    use crate::world::Commands;

    /// Runs `f` on the storage's AoS rows.
    fn with_rows<R>(
        storage: &mut crate::storage::Storage<Particle>,
        f: impl FnOnce(AosMut<'_, Particle>) -> R,
    ) -> R {
        match storage.rows_mut() {
            ByLayout::Aos(rows) => f(rows),
            ByLayout::Soa(_) => unreachable!("an AoS storage"),
        }
    }

    fn particles(n: usize) -> Vec<AosRow<Particle>> {
        let mut ids = EntityAllocator::new();
        (0..n)
            .map(|i| AosRow {
                entity: ids.spawn(),
                bundle: Particle::at(Vec2::new(i as f32, 5.0), Vec2::new(1.0, 0.0)),
            })
            .collect()
    }

    #[test]
    fn integrate_bounces_off_walls_and_keeps_particles_inside() {
        let mut ps = particles(3);
        ps[0].bundle.velocity = Vec2::new(-100.0, 0.0);
        ps[2].bundle.velocity = Vec2::new(0.0, 100.0);
        let m = Motion {
            dt: 0.1,
            gravity_dt: Vec2::ZERO,
            damping: 1.0,
            bounds: Vec2::new(10.0, 10.0),
            restitution: 0.5,
        };
        assert_eq!(integrate_rows(AosMut::new(&mut ps), &m), 2);
        assert_eq!(ps[0].bundle.position, Vec2::new(0.0, 5.0));
        assert_eq!(ps[0].bundle.velocity, Vec2::new(50.0, 0.0));
        assert_eq!(ps[1].bundle.position, Vec2::new(1.1, 5.0));
        assert_eq!(ps[2].bundle.position, Vec2::new(2.0, 10.0));
        assert_eq!(ps[2].bundle.velocity, Vec2::new(0.0, -50.0));
    }

    /// Values where a scalar and a vector max/min/compare differ most easily.
    const AWKWARD: [f32; 10] = [
        0.0,
        -0.0,
        10.0,
        10.000001,
        -1e-30,
        1e-45,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        3.5,
    ];

    /// `n` particles whose positions and velocities cycle through [`AWKWARD`].
    fn awkward(n: usize, nan: bool) -> Vec<AosRow<Particle>> {
        let values: Vec<f32> = AWKWARD.into_iter().filter(|v| nan || !v.is_nan()).collect();
        let at = |k: usize| values[k % values.len()];
        let mut rows = particles(n);
        for (i, p) in rows.iter_mut().enumerate() {
            p.bundle.position = Vec2::new(at(i), at(i / 9 + 4));
            p.bundle.velocity = Vec2::new(at(i * 7 + 1), -at(i * 5 + 2));
        }
        rows
    }

    /// Gravity -0.0 on x, so `v.x` and `x` can be -0.0 where the velocity is -0.0.
    const AWKWARD_MOTION: Motion = Motion {
        dt: 0.25,
        gravity_dt: Vec2::new(-0.0, -0.1),
        damping: 0.99,
        bounds: Vec2::new(10.0, 8.0),
        restitution: 0.5,
    };

    /// Equal bits, or both NaN (Rust leaves the bits of a NaN result open).
    fn same(a: Vec2, b: Vec2) -> bool {
        let lane = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        lane(a.x, b.x) && lane(a.y, b.y)
    }

    #[test]
    fn integrate_gives_the_same_bits_on_columns_and_rows() {
        // Odd lengths leave a last particle for the narrow path.
        let m = AWKWARD_MOTION;
        for n in [0, 1, 2, 3, 8, 81] {
            let mut rows = awkward(n, true);
            let mut positions: Vec<Vec2> = rows.iter().map(|p| p.bundle.position).collect();
            let mut velocities: Vec<Vec2> = rows.iter().map(|p| p.bundle.velocity).collect();
            let on_rows = integrate_rows(AosMut::new(&mut rows), &m);
            let on_columns = Pairs::new(&mut positions, &mut velocities).unwrap().run(&m);
            assert_eq!(on_rows, on_columns, "bounces, n = {n}");
            for (i, p) in rows.iter().enumerate() {
                assert!(same(p.bundle.position, positions[i]), "position {i} of {n}");
                assert!(
                    same(p.bundle.velocity, velocities[i]),
                    "velocity {i} of {n}"
                );
            }
        }
    }

    #[test]
    fn integrate_matches_the_per_component_formula() {
        // The obvious code, one component at a time: the lane kernel must give its bits
        // wherever the new position is not NaN (its one-compare wall test is a rewrite of
        // these four compares, which differ on NaN: the kernel counts a NaN as a bounce).
        // Infinite inputs stay in: they make NaN positions (inf - inf), which are left out.
        let m = AWKWARD_MOTION;
        let mut rows = awkward(90, false);
        rows.retain(|r| {
            let p = &r.bundle;
            !(p.position + (p.velocity + m.gravity_dt) * m.damping * m.dt).is_nan()
        });
        assert!(rows.len() > 60, "most rows stay");
        let mut bounces = 0;
        let expected: Vec<(Vec2, Vec2)> = rows
            .iter()
            .map(|r| {
                let p = &r.bundle;
                let mut v = (p.velocity + m.gravity_dt) * m.damping;
                let mut x = p.position + v * m.dt;
                let out_x = x.x < 0.0 || x.x > m.bounds.x;
                let out_y = x.y < 0.0 || x.y > m.bounds.y;
                x = x.max(Vec2::ZERO).min(m.bounds);
                if out_x {
                    v.x = -v.x * m.restitution;
                }
                if out_y {
                    v.y = -v.y * m.restitution;
                }
                bounces += u64::from(out_x) + u64::from(out_y);
                (x, v)
            })
            .collect();
        let mut positions: Vec<Vec2> = rows.iter().map(|p| p.bundle.position).collect();
        let mut velocities: Vec<Vec2> = rows.iter().map(|p| p.bundle.velocity).collect();
        assert_eq!(integrate_rows(AosMut::new(&mut rows), &m), bounces);
        assert_eq!(
            Pairs::new(&mut positions, &mut velocities).unwrap().run(&m),
            bounces
        );
        let bits = |v: Vec2| v.to_array().map(f32::to_bits);
        for (i, (x, v)) in expected.into_iter().enumerate() {
            assert_eq!(bits(rows[i].bundle.position), bits(x), "row position {i}");
            assert_eq!(bits(rows[i].bundle.velocity), bits(v), "row velocity {i}");
            assert_eq!(bits(positions[i]), bits(x), "column position {i}");
            assert_eq!(bits(velocities[i]), bits(v), "column velocity {i}");
        }
    }

    /// Whether this CPU runs the AVX2 clones; if not, says which test is skipped and why.
    fn has_avx2(test: &str) -> bool {
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        if !avx2 {
            eprintln!("{test}: skipped, this CPU has no AVX2 (only the baseline path runs here)");
        }
        avx2
    }

    /// Equal bits (or both NaN) in every row; the index of the first row that differs.
    fn first_difference(a: &[Vec2], b: &[Vec2]) -> Option<usize> {
        assert_eq!(a.len(), b.len());
        (0..a.len()).find(|&i| !same(a[i], b[i]))
    }

    #[test]
    fn integrate_gives_the_same_bits_with_and_without_avx2() {
        if !has_avx2("integrate_gives_the_same_bits_with_and_without_avx2") {
            return;
        }
        // Lands exactly on the walls (0 and 10 on x, 0 and 8 on y) from either side, or
        // stays on them: dt 0.25, no gravity, no drag, so `x + v dt` is exact.
        let walls = Motion {
            dt: 0.25,
            gravity_dt: Vec2::ZERO,
            damping: 1.0,
            bounds: Vec2::new(10.0, 8.0),
            restitution: 0.5,
        };
        let on_walls = [
            (Vec2::new(9.0, 7.0), Vec2::new(4.0, 4.0)),
            (Vec2::new(1.0, 1.0), Vec2::new(-4.0, -4.0)),
            (Vec2::new(10.0, 8.0), Vec2::ZERO),
            (Vec2::new(0.0, -0.0), Vec2::new(-0.0, -0.0)),
            (Vec2::new(-0.0, 0.0), Vec2::new(0.0, -0.0)),
            (Vec2::new(11.0, 9.0), Vec2::new(-4.0, -4.0)),
            (Vec2::new(-1.0, -1.0), Vec2::new(4.0, 4.0)),
        ];
        // Every length up to three whole iterations of the wide loop (8 rows each) plus
        // every tail, then longer runs.
        for m in [AWKWARD_MOTION, walls] {
            for n in (0..=27).chain([81, 1000, 4099]) {
                let rows = awkward(n, true);
                let mut positions: Vec<Vec2> = rows.iter().map(|p| p.bundle.position).collect();
                let mut velocities: Vec<Vec2> = rows.iter().map(|p| p.bundle.velocity).collect();
                for (i, (p, v)) in on_walls.iter().cycle().take(n / 3).enumerate() {
                    (positions[3 * i], velocities[3 * i]) = (*p, *v);
                }
                let (mut p_base, mut v_base) = (positions.clone(), velocities.clone());
                // A few steps, so bounced and clamped rows step again.
                for step in 0..3 {
                    let wide =
                        integrate_columns(Pairs::new(&mut positions, &mut velocities).unwrap(), &m);
                    let base = integrate_columns_baseline(
                        Pairs::new(&mut p_base, &mut v_base).unwrap(),
                        &m,
                    );
                    let at = format!("n = {n}, step {step}, {m:?}");
                    assert_eq!(wide, base, "bounces, {at}");
                    assert_eq!(
                        first_difference(&positions, &p_base),
                        None,
                        "positions, {at}"
                    );
                    assert_eq!(
                        first_difference(&velocities, &v_base),
                        None,
                        "velocities, {at}"
                    );
                }
            }
        }
    }

    /// `n` particles for the forces test: clusters of every size from 1 to 12 candidates
    /// per cell (runs of every length, with and without a tail of the four-wide loop), and
    /// every few rows an awkward position, velocity or mass.
    fn crowd(n: usize) -> Vec<AosRow<Particle>> {
        let mut rows = particles(n);
        let mut cluster = (0, 0);
        for (i, p) in rows.iter_mut().enumerate() {
            // Cluster k sits in cell (k % 9, k / 9 % 9) of a 10 x 10 grid of 1 x 1 cells.
            let (k, j) = cluster;
            let cell = Vec2::new((k % 9) as f32 + 0.5, (k / 9 % 9) as f32 + 0.5);
            let jitter = Vec2::new((j as f32 * 0.37).sin(), (j as f32 * 0.61).cos()) * 0.45;
            p.bundle.position = cell + jitter;
            p.bundle.velocity = Vec2::new(0.5 - (i % 7) as f32 * 0.25, (i % 5) as f32 * 0.5);
            p.bundle.mass = 0.5 + (i % 3) as f32;
            cluster = if j >= k % 12 { (k + 1, 0) } else { (k, j + 1) };
            let odd = |k: usize| AWKWARD[(i / 7 + k) % AWKWARD.len()];
            match i % 7 {
                1 => p.bundle.position.x = odd(0),
                2 => p.bundle.position = Vec2::new(odd(1), odd(2)),
                3 => p.bundle.velocity = Vec2::new(odd(3), -odd(4)),
                4 => p.bundle.mass = odd(5),
                _ => {}
            }
        }
        rows
    }

    /// The pushes on the particles of `grid` for `radius`, computed by `slots` in chunks of
    /// `chunk` slots, and the cells visited and candidates tested.
    fn crowd_pushes(
        grid: &Grid,
        radius: f32,
        chunk: usize,
        slots: fn(&Grid, &Repulsion, usize, &mut [Vec2], &NeighbourTally),
    ) -> (Vec<Vec2>, (u64, u64)) {
        let kernel = Repulsion::new(radius);
        let mut counters = Counters::new(Padding::Padded, 1);
        let tally = NeighbourTally {
            cells_visited: counters.register("cells_visited"),
            neighbour_checks: counters.register("neighbour_checks"),
            counters: &counters,
        };
        let mut out = vec![Vec2::NAN; grid.cell_order().len()];
        for (i, piece) in out.chunks_mut(chunk).enumerate() {
            slots(grid, &kernel, i * chunk, piece, &tally);
        }
        let work = (tally.cells_visited, tally.neighbour_checks);
        (out, (counters.total(work.0), counters.total(work.1)))
    }

    #[test]
    fn repulsion_gives_the_same_bits_with_and_without_avx2() {
        if !has_avx2("repulsion_gives_the_same_bits_with_and_without_avx2") {
            return;
        }
        let geometry = crate::grid::GridGeometry::new(10.0, 10.0, 1.0).unwrap();
        for n in [1, 2, 3, 5, 8, 13, 99, 301, 1000] {
            let positions: Vec<Vec2> = crowd(n).iter().map(|r| r.bundle.position).collect();
            let arena = crate::arena::Arena::new();
            let grid = Grid::build(&arena, geometry, &positions);
            for radius in [1.0, 0.3] {
                let (wide, wide_work) = crowd_pushes(&grid, radius, n, repulsion_slots);
                let (base, base_work) = crowd_pushes(&grid, radius, n, repulsion_slots_baseline);
                assert_eq!(wide_work, base_work, "n = {n}, radius {radius}");
                for (k, (w, b)) in wide.iter().zip(&base).enumerate() {
                    assert!(
                        same(*w, *b),
                        "n = {n}, radius {radius}, slot {k}: {w} vs {b}"
                    );
                }
                let pushed = base.iter().filter(|p| **p != Vec2::ZERO).count();
                assert!(
                    n < 8 || pushed > n / 2,
                    "most rows feel a push, n = {n}, radius {radius}: {pushed}"
                );
            }
        }
    }

    /// The push on the particle in slot `k`, one candidate at a time in the documented
    /// order: the runs back to back, candidate `j` into lane `j % LANES`, the lanes added in
    /// [`LaneSums::total`]'s tree.
    fn push_by_the_book(grid: &Grid, kernel: &Repulsion, k: usize) -> Vec2 {
        let (xs, ys) = grid.sorted_positions();
        let here = Vec2::new(xs[k], ys[k]);
        let (mut sx, mut sy) = ([0.0f32; LANES], [0.0f32; LANES]);
        let runs = grid.runs_near(here);
        let candidates = runs.flat_map(|run| run.xs.iter().zip(run.ys));
        for (j, (x, y)) in candidates.enumerate() {
            let (dx, dy) = (here.x - x, here.y - y);
            let w = 1.0 / (dx * dx + dy * dy + kernel.soft2).sqrt() - kernel.inv_r;
            let w = if w > 0.0 { w } else { 0.0 }; // `maxps(w, 0)`: 0 for NaN
            sx[j % LANES] += dx * w;
            sy[j % LANES] += dy * w;
        }
        let tree =
            |v: [f32; LANES]| ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
        Vec2::new(tree(sx), tree(sy))
    }

    /// The crowd, plus a pile of `pile` particles in the four cells of one corner, whose
    /// neighbours then fill more than one batch of candidates.
    fn crowd_with_a_pile(n: usize, pile: usize) -> Vec<Vec2> {
        let mut positions: Vec<Vec2> = crowd(n).iter().map(|r| r.bundle.position).collect();
        let at = |i: usize| Vec2::new(8.2 + (i % 17) as f32 * 0.09, 8.1 + (i % 13) as f32 * 0.11);
        positions.extend((0..pile).map(at));
        positions
    }

    #[test]
    fn pushes_in_any_chunks_equal_pushes_one_candidate_at_a_time() {
        // Every chunk size cuts the crowd's cells somewhere else, so cells split between
        // chunks all occur; the pile's neighbourhood holds more than one batch.
        let geometry = crate::grid::GridGeometry::new(10.0, 10.0, 1.0).unwrap();
        let positions = crowd_with_a_pile(400, 3 * Candidates::BATCH / 2);
        let arena = crate::arena::Arena::new();
        let grid = Grid::build(&arena, geometry, &positions);
        let (xs, ys) = grid.sorted_positions();
        let biggest = (0..positions.len())
            .map(|k| {
                grid.runs_near(Vec2::new(xs[k], ys[k]))
                    .map(|r| r.xs.len())
                    .sum()
            })
            .max();
        assert!(
            biggest > Some(Candidates::BATCH),
            "{biggest:?}: one batch only"
        );
        for radius in [1.0, 0.45] {
            let kernel = Repulsion::new(radius);
            let alone: Vec<Vec2> = (0..positions.len())
                .map(|k| push_by_the_book(&grid, &kernel, k))
                .collect();
            let checks: usize = (0..positions.len())
                .map(|k| {
                    let runs = grid.runs_near(Vec2::new(xs[k], ys[k]));
                    runs.map(|r| r.xs.len()).sum::<usize>()
                })
                .sum();
            for chunk in [1, 2, 3, 5, 7, 64, 400, positions.len()] {
                for slots in [repulsion_slots, repulsion_slots_baseline] {
                    let (pushes, work) = crowd_pushes(&grid, radius, chunk, slots);
                    assert_eq!(work.1, checks as u64, "chunk {chunk}");
                    for (k, (p, a)) in pushes.iter().zip(&alone).enumerate() {
                        assert!(
                            same(*p, *a),
                            "radius {radius}, chunk {chunk}, slot {k}: {p} vs {a}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_block_copy_past_a_run_is_overwritten_and_the_padding_pushes_with_minus_zero() {
        let geometry = crate::grid::GridGeometry::new(10.0, 10.0, 1.0).unwrap();
        let positions = crowd_with_a_pile(300, 0);
        let arena = crate::arena::Arena::new();
        let grid = Grid::build(&arena, geometry, &positions);
        let sorted = grid.sorted_positions();
        let mut candidates = Candidates::new();
        for k in 0..positions.len() {
            let runs = grid.runs_near(Vec2::new(sorted.0[k], sorted.1[k]));
            let bits = |(x, y): (&f32, &f32)| (x.to_bits(), y.to_bits());
            let expected: Vec<(u32, u32)> = runs
                .clone()
                .flat_map(|run| run.xs.iter().zip(run.ys).map(bits))
                .collect();
            assert_eq!(candidates.fill(sorted, runs, 0), expected.len());
            let n = expected.len();
            assert_eq!(candidates.len, n.next_multiple_of(LANES), "slot {k}");
            let loaded = candidates.xs.iter().zip(&candidates.ys).map(bits);
            assert!(loaded.clone().take(n).eq(expected), "slot {k}");
            let far = Candidates::FAR.to_bits();
            let mut padding = loaded.take(candidates.len).skip(n);
            assert!(padding.all(|c| c == (far, far)), "slot {k}: padded");
        }
        let kernel = Repulsion::new(1.0);
        let here = Vec2::new(3.0, -4.0);
        let d = Vec4::splat(here.x - Candidates::FAR);
        let push = d * kernel.weight(d * d + d * d);
        assert_eq!(push.x.to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn the_push_is_strongest_at_contact_and_zero_at_the_radius() {
        let kernel = Repulsion::new(4.0);
        let push = |d: f32| d * kernel.weight(Vec4::splat(d * d)).x;
        let pushes: Vec<f32> = [0.0, 0.2, 0.5, 1.0, 2.0, 3.0, 3.9, 4.0, 5.0]
            .map(push)
            .into();
        assert_eq!(pushes[0], 0.0, "a particle does not push itself");
        assert!(
            pushes[1] > 0.9,
            "near contact: almost the full push ({})",
            pushes[1]
        );
        assert!(
            pushes[1..8].windows(2).all(|w| w[0] > w[1] || w[1] == 0.0),
            "{pushes:?}"
        );
        assert_eq!(&pushes[7..], &[0.0, 0.0], "nothing at or beyond the radius");
    }

    #[test]
    fn age_gives_the_same_bits_and_deaths_on_columns_and_rows() {
        use crate::storage::{Layout, Storage};
        // Lengths around the block size, lifetimes hit exactly, NaN, infinities, -0.0.
        let specials = [0.0, -0.0, 0.1, 0.2, f32::INFINITY, f32::NAN, 1e-30, 0.3];
        for n in [
            0,
            1,
            AGE_BLOCK - 1,
            AGE_BLOCK,
            AGE_BLOCK + 1,
            3 * AGE_BLOCK + 5,
            1000,
        ] {
            let mut storages = Layout::ALL.map(|layout| {
                let mut s: Storage<Particle> = Storage::new(layout);
                for i in 0..n {
                    let mut p = Particle::at(Vec2::ZERO, Vec2::ZERO);
                    p.age = specials[i % 8];
                    p.lifetime = specials[(i * 3 + 1) % 8] + 0.1 * (i % 3) as f32;
                    s.spawn(p);
                }
                s
            });
            let mut results = Vec::new();
            for storage in &mut storages {
                let mut commands = Commands::new(LockStrategy::Mutex, 1);
                let deaths = AtomicU64::new(0);
                let count = |d: u64| {
                    deaths.fetch_add(d, Ordering::Relaxed);
                };
                age(storage.rows_mut(), 0.1, 7, &commands, &count);
                let died = commands.apply(storage).despawned as u64;
                assert_eq!(deaths.into_inner(), died, "{n}: counted what was queued");
                let rows: Vec<_> = (0..storage.len())
                    .map(|i| {
                        let (e, p) = storage.row(i).unwrap();
                        (e, p.age.to_bits(), p.lifetime.to_bits())
                    })
                    .collect();
                results.push((died, rows));
            }
            assert_eq!(results[0], results[1], "{n} rows: SoA and AoS differ");
            assert!(n < 8 || results[0].0 > 0, "{n}: something died");
        }
    }

    #[test]
    fn age_reports_exactly_the_expired() {
        let mut ps = particles(4);
        ps[1].bundle.lifetime = 0.05;
        ps[3].bundle.lifetime = 0.1;
        let mut storage = crate::storage::Storage::new(crate::storage::Layout::Aos);
        let entities: Vec<_> = ps.iter().map(|p| storage.spawn(p.bundle)).collect();
        let mut commands = Commands::new(LockStrategy::Mutex, 1);
        let died = with_rows(&mut storage, |rows| {
            age_rows(rows, 0.1, &mut commands.writer(0))
        });
        assert_eq!(died, 2);
        assert_eq!(commands.apply(&mut storage).despawned, 2);
        let alive: Vec<bool> = entities.iter().map(|e| storage.contains(*e)).collect();
        assert_eq!(alive, [true, false, true, false]);
    }

    #[test]
    fn repulsion_pushes_close_pairs_apart_symmetrically() {
        let mut ps = particles(2);
        ps[0].bundle.position = Vec2::new(5.0, 5.0);
        ps[1].bundle.position = Vec2::new(6.0, 5.0);
        ps.iter_mut().for_each(|p| p.bundle.velocity = Vec2::ZERO);
        let arena = crate::arena::Arena::new();
        let positions: Vec<Vec2> = ps.iter().map(|p| p.bundle.position).collect();
        let grid = Grid::build(
            &arena,
            crate::grid::GridGeometry::new(10.0, 10.0, 2.0).unwrap(),
            &positions,
        );
        let field = ForceField {
            repulsion_radius: 2.0,
            repulsion_strength: 10.0,
            ..ForceField::default()
        };
        let mut counters = Counters::new(Padding::Padded, 1);
        let tally = NeighbourTally {
            cells_visited: counters.register("cells_visited"),
            neighbour_checks: counters.register("neighbour_checks"),
            counters: &counters,
        };
        let mut by_slot = [Vec2::NAN; 2];
        repulsion(&grid, field.repulsion_radius, 0, &mut by_slot, &tally);
        let pushes = Pushes::new(&grid, &by_slot);
        forces(AosMut::new(&mut ps), 0, &field, Some(&pushes), 1.0);
        // |d| = 1, radius 2, softening 0.02: strength * (1/sqrt(1.0004) - 1/2) = 4.998...
        let push = 10.0 * (1.0 / 1.0004f32.sqrt() - 0.5);
        assert_eq!(ps[0].bundle.velocity, Vec2::new(-push, 0.0));
        assert_eq!(ps[1].bundle.velocity, Vec2::new(push, 0.0));
        assert_eq!(counters.total(tally.neighbour_checks), 4);
    }

    #[test]
    fn forces_give_the_same_bits_on_columns_and_rows() {
        // The crowd's awkward positions, velocities and masses, two attractors (one with
        // an awkward strength) and the crowd's own pushes; odd lengths and offsets leave
        // 1 to 3 rows for the per-row tail of the columns.
        let geometry = crate::grid::GridGeometry::new(10.0, 10.0, 1.0).unwrap();
        let mut field = ForceField {
            count: 2,
            repulsion_radius: 1.0,
            repulsion_strength: 7.0,
            ..ForceField::default()
        };
        field.attractors[0] = Attractor {
            position: Vec2::new(3.0, 4.0),
            strength: 50.0,
            softening2: 0.25,
        };
        field.attractors[1] = Attractor {
            position: Vec2::new(8.0, 1.0),
            strength: AWKWARD[3],
            softening2: 0.0,
        };
        for n in [0, 1, 3, 4, 7, 81, 300] {
            let rows = crowd(n);
            let positions: Vec<Vec2> = rows.iter().map(|r| r.bundle.position).collect();
            let before: Vec<Vec2> = rows.iter().map(|r| r.bundle.velocity).collect();
            let masses: Vec<f32> = rows.iter().map(|r| r.bundle.mass).collect();
            let arena = crate::arena::Arena::new();
            let grid = Grid::build(&arena, geometry, &positions);
            let (by_slot, _) =
                crowd_pushes(&grid, field.repulsion_radius, n.max(1), repulsion_slots);
            let pushes = Pushes::new(&grid, &by_slot);
            // A chunk starting at row 3 shifts the four-row blocks against the pushes.
            for (first, pushes) in [(3, None), (0, Some(&pushes)), (3, Some(&pushes))] {
                let first = first.min(n);
                let mut rows = rows[first..].to_vec();
                let mut velocities = before[first..].to_vec();
                let before = &before[first..];
                forces(AosMut::new(&mut rows), first, &field, pushes, 0.01);
                let (positions, masses) = (&positions[first..], &masses[first..]);
                forces_columns(
                    positions,
                    &mut velocities,
                    masses,
                    first,
                    &field,
                    pushes,
                    0.01,
                );
                let moved = velocities.iter().zip(before).filter(|(v, b)| v != b);
                assert!(n <= first || moved.count() > 0, "nothing happened");
                for (i, r) in rows.iter().enumerate() {
                    assert!(
                        same(r.bundle.velocity, velocities[i]),
                        "n = {n}, pushes {}, row {i}: {} vs {}",
                        pushes.is_some(),
                        r.bundle.velocity,
                        velocities[i]
                    );
                }
            }
        }
    }
}
