//! The command buffer: spawns and despawns queued by (parallel) systems, applied between
//! systems in a deterministic order.
//!
//! Both queues are [`EventSink`]s, so they go through the world's active
//! [`LockStrategy`]: switching the lock strategy changes what a
//! queued command costs, never which commands are applied or in what order.
//!
//! # Order
//! - Despawns are sorted by entity; despawning an entity twice, or a dead one, is a no-op.
//! - Spawns are sorted by `(key, n)`: `key` is the first row of the chunk whose writer
//!   queued it ([`Commands::writer`]) and `n` counts that writer's spawns. Chunk boundaries
//!   depend only on the row count (see [`for_each_chunk`](crate::parallel::for_each_chunk)),
//!   so the order is the same for every thread count, lock strategy and interleaving.
//! - The despawns are applied in their order, the first spawns taking the despawned rows
//!   in place ([`Storage::replace`]: the k-th spawn gets the row and slot of the k-th live
//!   despawned entity; the rows are written together after that bookkeeping, before any
//!   swap-remove); despawns left over are swap-removed ([`Storage::despawn`]), spawns
//!   left over appended ([`Storage::spawn`]). The same entities live afterwards as after
//!   all despawns then all spawns, with the same bundles; which row and handle slot each
//!   new one gets differs, and no row moves when the counts match.
//!
//! # Drain buffers
//! In [`AllocMode::Arena`] the queues drain into two buffers the command buffer keeps, and
//! the row writes queue in a third, so applying allocates nothing once warm; in
//! [`AllocMode::Heap`] each of them is a fresh `Vec`, sized to the queue and dropped after
//! applying, and is counted ([`Commands::allocations`]).

use crate::arena::AllocMode;
use crate::counters::Padding;
use crate::entity::Entity;
use crate::storage::{Bundle, RowWrite, Storage};
use crate::sync::{Contention, EventSink, LockStrategy, SinkWriter};
use crate::world::StepAllocations;
use std::cmp::Ordering;

/// A queued spawn, ordered by its key only.
#[derive(Clone, Copy, Debug)]
struct SpawnRequest<B> {
    key: (u64, u32),
    bundle: B,
}

impl<B> PartialEq for SpawnRequest<B> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<B> Eq for SpawnRequest<B> {}
impl<B> PartialOrd for SpawnRequest<B> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<B> Ord for SpawnRequest<B> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// Spawns and despawns queued during a step. Systems get it through
/// [`Shared::commands`](crate::world::Shared).
pub struct Commands<B: Bundle> {
    despawns: EventSink<Entity>,
    spawns: EventSink<SpawnRequest<B>>,
    /// Drain buffers, kept so applying allocates nothing in steady state.
    despawn_buf: Vec<Entity>,
    spawn_buf: Vec<SpawnRequest<B>>,
    /// The rows spawns took in place, written after the bookkeeping ([`Storage::write_rows`]).
    write_buf: Vec<RowWrite<B>>,
    mode: AllocMode,
    /// Fresh drain and row-write buffers taken this step (heap mode).
    allocations: StepAllocations,
}

/// What [`Commands::apply`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Entities removed.
    pub despawned: usize,
    /// Entities created.
    pub spawned: usize,
}

impl<B: Bundle> Commands<B> {
    /// Empty queues guarded by `lock`, for a pool of `threads` workers.
    pub fn new(lock: LockStrategy, threads: usize) -> Self {
        Self::with_padding(lock, threads, Padding::Padded)
    }

    /// Empty queues whose contention counters are laid out with `padding`.
    pub fn with_padding(lock: LockStrategy, threads: usize, padding: Padding) -> Self {
        Commands {
            despawns: EventSink::with_padding(lock, threads, padding),
            spawns: EventSink::with_padding(lock, threads, padding),
            despawn_buf: Vec::new(),
            spawn_buf: Vec::new(),
            write_buf: Vec::new(),
            mode: AllocMode::Arena,
            allocations: StepAllocations::default(),
        }
    }

    /// Drains into kept buffers ([`AllocMode::Arena`]) or fresh ones ([`AllocMode::Heap`]).
    pub(crate) fn set_mode(&mut self, mode: AllocMode) {
        if mode == AllocMode::Heap {
            // Give the kept buffers back: heap mode holds nothing between drains.
            self.despawn_buf = Vec::new();
            self.spawn_buf = Vec::new();
            self.write_buf = Vec::new();
        }
        self.mode = mode;
    }

    /// Zeroes the count of fresh buffers and the contention counts (at the start of every
    /// step).
    pub(crate) fn start_step(&mut self) {
        self.allocations = StepAllocations::default();
        self.despawns.reset_contention();
        self.spawns.reset_contention();
    }

    /// Fresh drain and row-write buffers taken since the step began (always zero in arena
    /// mode).
    pub fn allocations(&self) -> StepAllocations {
        self.allocations
    }

    /// The lock strategy the queues use.
    pub fn strategy(&self) -> LockStrategy {
        self.despawns.strategy()
    }

    /// Rebuilds the queues for another lock strategy, thread count or counter padding
    /// (between steps, when they are empty), keeping the drain buffers.
    pub(crate) fn rebuild(&mut self, lock: LockStrategy, threads: usize, padding: Padding) {
        self.despawns = EventSink::with_padding(lock, threads, padding);
        self.spawns = EventSink::with_padding(lock, threads, padding);
    }

    /// Despawns queued and not yet applied (an entity queued twice counts twice).
    pub fn pending_despawns(&mut self) -> usize {
        self.despawns.pending()
    }

    /// What sharing the two queues cost since the step began (see [`Contention`]).
    pub fn contention(&self) -> Contention {
        self.despawns.contention().plus(self.spawns.contention())
    }

    /// Makes room for `despawns` and `spawns` commands in the coming system, so queueing
    /// allocates nothing. Capacities only grow.
    pub fn reserve(&mut self, despawns: usize, spawns: usize) {
        self.despawns.reserve(despawns);
        self.spawns.reserve(spawns);
        if self.mode == AllocMode::Heap {
            return; // Heap mode keeps no drain buffers: each drain takes a fresh one.
        }
        self.despawn_buf
            .reserve(despawns.saturating_sub(self.despawn_buf.len()));
        self.spawn_buf
            .reserve(spawns.saturating_sub(self.spawn_buf.len()));
        // Each spawn takes at most one row in place.
        self.write_buf
            .reserve(spawns.saturating_sub(self.write_buf.len()));
    }

    /// A writer for one chunk of work starting at row `first_row` (serial code passes 0 and
    /// uses one writer). Take one per chunk and queue through it.
    pub fn writer(&self, first_row: usize) -> CommandWriter<'_, B> {
        CommandWriter {
            despawns: self.despawns.writer(),
            spawns: self.spawns.writer(),
            key: first_row as u64,
            n: 0,
        }
    }

    /// Applies the queued commands to `storage` in the documented order and empties the
    /// queues.
    pub fn apply(&mut self, storage: &mut Storage<B>) -> Applied {
        let mut despawns = self.drain_buffer(Self::take_despawns);
        despawns.dedup();
        let mut spawns = self.drain_buffer(Self::take_spawns);
        let applied = Applied {
            despawned: storage.count_alive(&despawns),
            spawned: spawns.len(),
        };
        let mut writes = std::mem::take(&mut self.write_buf);
        writes.reserve(spawns.len().min(despawns.len()));
        let mut spawns_left = spawns.drain(..);
        let mut renewed = None;
        for e in despawns.drain(..) {
            // Sorted, so other handles of a slot just handed to a spawn come right after it:
            // they were dead (one generation of a slot lives at a time) and must not despawn
            // the newcomer, which usually has that slot.
            if renewed == Some(e.index()) {
                continue;
            }
            // A spawn takes a despawned row in place: no row moves.
            match spawns_left.as_slice().first() {
                Some(request) => {
                    if storage
                        .replace_later(e, request.bundle, &mut writes)
                        .is_some()
                    {
                        spawns_left.next();
                        renewed = Some(e.index());
                    }
                }
                None => {
                    // A despawn moves the last row: the queued writes go first.
                    storage.write_rows(&mut writes);
                    _ = storage.despawn(e);
                }
            }
        }
        storage.write_rows(&mut writes);
        for request in spawns_left {
            storage.spawn(request.bundle);
        }
        if self.mode == AllocMode::Arena {
            self.despawn_buf = despawns;
            self.spawn_buf = spawns;
            self.write_buf = writes;
        } else if writes.capacity() > 0 {
            self.allocations.count += 1;
            self.allocations.bytes += writes.capacity() * size_of::<RowWrite<B>>();
        }
        applied
    }

    /// The drained queue chosen by `take`, in its kept buffer or (heap mode) a fresh one.
    fn drain_buffer<E: Copy + Ord + Send + Sync>(
        &mut self,
        take: fn(&mut Self) -> (&mut EventSink<E>, &mut Vec<E>),
    ) -> Vec<E> {
        let heap = self.mode == AllocMode::Heap;
        let (sink, kept) = take(self);
        let pending = sink.pending();
        let mut buffer = if heap {
            Vec::with_capacity(pending)
        } else {
            std::mem::take(kept)
        };
        sink.drain_sorted(&mut buffer);
        if heap && buffer.capacity() > 0 {
            self.allocations.count += 1;
            self.allocations.bytes += buffer.capacity() * size_of::<E>();
        }
        buffer
    }

    fn take_despawns(&mut self) -> (&mut EventSink<Entity>, &mut Vec<Entity>) {
        (&mut self.despawns, &mut self.despawn_buf)
    }

    fn take_spawns(&mut self) -> (&mut EventSink<SpawnRequest<B>>, &mut Vec<SpawnRequest<B>>) {
        (&mut self.spawns, &mut self.spawn_buf)
    }
}

/// Queues commands from one chunk of work; see [`Commands::writer`].
pub struct CommandWriter<'a, B: Bundle> {
    despawns: SinkWriter<'a, Entity>,
    spawns: SinkWriter<'a, SpawnRequest<B>>,
    key: u64,
    n: u32,
}

impl<B: Bundle> CommandWriter<'_, B> {
    /// Queues the removal of `entity`.
    #[inline]
    pub fn despawn(&mut self, entity: Entity) {
        self.despawns.push(entity);
    }

    /// Queues a new entity with `bundle`.
    #[inline]
    pub fn spawn(&mut self, bundle: B) {
        self.spawns.push(SpawnRequest {
            key: (self.key, self.n),
            bundle,
        });
        self.n = self.n.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::particles::Particle;
    use crate::storage::{Layout, NEW_ROW};
    use glam::Vec2;

    /// A particle whose every field follows from `mass`, so a row whose columns came from
    /// different particles is told apart.
    fn spark(mass: f32) -> Particle {
        Particle {
            position: Vec2::new(mass, -mass),
            velocity: Vec2::new(0.5 * mass, 1.0),
            color: [mass as u8, (mass as u32 >> 8) as u8, 7, 255],
            age: 0.01 * mass,
            lifetime: 10.0 + mass,
            mass,
        }
    }

    #[test]
    fn spawns_take_despawned_rows_and_the_rest_is_swapped_out_or_appended() {
        // The big cases queue more row writes than `PARALLEL_MIN_WRITES` (in SoA, written
        // column by column on the pool's workers). Reversed, the storage holds the lowest
        // handles in its last rows: the despawns of the lowest handles are the ones spawns
        // take, so a leftover despawn's swap-remove moves a renewed row, whose write must
        // have been done first.
        let big = crate::storage::PARALLEL_MIN_WRITES * 2;
        let cases = [(5, 3, 3), (5, 3, 1), (5, 1, 3), (5, 0, 2), (5, 2, 0)];
        let big_cases = [(2 * big, big + 7, big), (2 * big, big, big + 7)];
        for layout in Layout::ALL {
            for reversed in [false, true] {
                for (total, despawned, spawned) in cases.into_iter().chain(big_cases) {
                    let mut storage = Storage::new(layout);
                    let old: Vec<Entity> =
                        (0..total).map(|i| storage.spawn(spark(i as f32))).collect();
                    let gone: Vec<usize> = if reversed {
                        let order: Vec<u32> = (0..total as u32).rev().collect();
                        storage.permute(&order).unwrap();
                        (0..despawned).collect()
                    } else {
                        (total - despawned..total).collect()
                    };
                    // Origins followed through the apply: each row's old row, or a new one.
                    let mark = storage.mark_origins();
                    let masses_before: Vec<f32> =
                        (0..total).map(|i| storage.row(i).unwrap().1.mass).collect();
                    let mut commands: Commands<Particle> = Commands::new(LockStrategy::LockFree, 2);
                    let mut writer = commands.writer(0);
                    for &i in &gone {
                        writer.despawn(old[i]);
                        writer.despawn(old[i]); // twice: a no-op
                    }
                    for k in 0..spawned {
                        writer.spawn(spark((total + k) as f32));
                    }
                    drop(writer);
                    let applied = commands.apply(&mut storage);
                    let at = format!(
                        "{layout:?}, reversed {reversed}, {total} rows, {despawned} despawns, \
                         {spawned} spawns"
                    );
                    assert_eq!(applied, Applied { despawned, spawned }, "{at}");
                    assert_eq!(storage.len(), total - despawned + spawned, "{at}");
                    storage.check().unwrap();
                    for (i, e) in old.iter().enumerate() {
                        assert_eq!(storage.contains(*e), !gone.contains(&i), "{at}: entity {i}");
                    }
                    let origins = storage.origins_since(mark).unwrap();
                    let mut masses: Vec<f32> = (0..storage.len())
                        .map(|i| {
                            let bundle = storage.row(i).unwrap().1;
                            assert_eq!(bundle, spark(bundle.mass), "{at}: row {i} is whole");
                            match origins[i] {
                                NEW_ROW => assert!(bundle.mass >= total as f32, "{at}: row {i}"),
                                o => assert_eq!(masses_before[o as usize], bundle.mass, "{at}"),
                            }
                            bundle.mass
                        })
                        .collect();
                    masses.sort_by(f32::total_cmp);
                    let mut want: Vec<f32> = (0..total)
                        .filter(|i| !gone.contains(i))
                        .map(|i| i as f32)
                        .collect();
                    want.extend((0..spawned).map(|k| (total + k) as f32));
                    assert_eq!(masses, want, "{at}: the same bundles live");
                }
            }
        }
    }

    #[test]
    fn a_dead_handle_of_a_renewed_slot_does_not_despawn_the_newcomer() {
        let mut storage = Storage::new(Layout::Aos);
        let a = storage.spawn(spark(1.0));
        // The handle slot `a`'s gets when a spawn takes it: generation two further.
        let next = Entity::from_bits(a.to_bits() + (2 << 32)).unwrap();
        assert_eq!(next.index(), a.index());
        let mut commands: Commands<Particle> = Commands::new(LockStrategy::Mutex, 1);
        let mut writer = commands.writer(0);
        writer.despawn(next);
        writer.despawn(a);
        writer.spawn(spark(2.0));
        drop(writer);
        let applied = commands.apply(&mut storage);
        assert_eq!(applied.despawned, 1);
        let (newcomer, bundle) = storage.row(0).unwrap();
        assert_eq!((newcomer, bundle.mass), (next, 2.0), "alive, in a's row");
    }

    #[test]
    fn growing_a_lock_free_queue_keeps_what_is_queued() {
        let mut storage = Storage::new(Layout::Soa);
        let old: Vec<Entity> = (0..4).map(|i| storage.spawn(spark(i as f32))).collect();
        let mut commands: Commands<Particle> = Commands::new(LockStrategy::LockFree, 1);
        let mut writer = commands.writer(0);
        old.iter().for_each(|e| writer.despawn(*e));
        drop(writer);
        // A deferred system's despawns are still queued when the next one reserves.
        commands.reserve(1 << 16, 0);
        assert_eq!(commands.pending_despawns(), 4);
        assert_eq!(commands.apply(&mut storage).despawned, 4);
        assert!(storage.is_empty());
    }
}
