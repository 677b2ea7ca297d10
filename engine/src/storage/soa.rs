//! Structure-of-arrays layout, generated per bundle by [`bundle!`](crate::bundle).

/// Declares a bundle: a plain struct of components and, in a module of the given name, its
/// SoA columns, row views and field accessors, wired to [`Storage`](crate::storage::Storage).
///
/// Inside the module `$module` it generates:
/// - `Ref<'a>` / `Mut<'a>`: one row as a struct of references to its fields, plus the
///   row's `entity`;
/// - `Columns`: one `Vec` per field (the SoA container), and `ColumnsRef<'a>` /
///   `ColumnsMut<'a>`: column slices with public fields, for systems that want raw slices;
/// - `FIELDS`: one [`Field`](crate::storage::Field) per field, to read a field as one
///   contiguous slice in either layout ([`Storage::slice_of`](crate::storage::Storage::slice_of)).
/// - `LAYOUT`: each field's offset, size and alignment, the padding, and the AoS row
///   ([`BundleLayout`](crate::storage::layout::BundleLayout), also `<B as Bundle>::LAYOUT`).
///
/// Declare bundles at module level (not inside a function): field types are resolved in
/// the enclosing module's scope. Generic code over bundles (systems, `Storage<B>`) is
/// compiled at the opt-level of the crate that instantiates it.
///
/// ```
/// use engine::prelude::*;
///
/// bundle! {
///     /// A light in the scene.
///     pub mod light: Light {
///         /// Brightness in lumens.
///         pub lumens: f32,
///         /// Position.
///         pub at: Vec2,
///     }
/// }
///
/// # fn main() {
/// let mut lights: Storage<Light> = Storage::new(Layout::Soa);
/// let e = lights.spawn(Light { lumens: 800.0, at: Vec2::Y });
/// with_rows!(lights.rows_mut(), |rows| rows.for_each(|l: light::Mut| *l.lumens /= 2.0));
/// assert_eq!(lights.get(e).unwrap().lumens, 400.0);
/// # }
/// ```
#[macro_export]
macro_rules! bundle {
    (
        $(#[$meta:meta])*
        $vis:vis mod $module:ident : $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field: $ty, )*
        }

        impl $crate::storage::Bundle for $name {
            type Ref<'a> = $module::Ref<'a>;
            type Mut<'a> = $module::Mut<'a>;
            type Columns = $module::Columns;
            const LAYOUT: $crate::storage::layout::BundleLayout =
                $crate::storage::layout::BundleLayout {
                    name: stringify!($name),
                    size: size_of::<$name>(),
                    align: align_of::<$name>(),
                    fields: &[ $( $crate::storage::layout::FieldLayout {
                        name: stringify!($field),
                        type_name: stringify!($ty),
                        offset: ::core::mem::offset_of!($name, $field),
                        size: size_of::<$ty>(),
                        align: align_of::<$ty>(),
                    }, )* ],
                    row: $crate::storage::layout::RowLayout::of::<$name>(),
                };
            #[inline]
            fn view<'a>(entity: &'a $crate::entity::Entity, row: &'a Self) -> $module::Ref<'a> {
                $module::Ref { entity, $( $field: &row.$field, )* }
            }
            #[inline]
            fn view_mut<'a>(
                entity: &'a $crate::entity::Entity,
                row: &'a mut Self,
            ) -> $module::Mut<'a> {
                $module::Mut { entity, $( $field: &mut row.$field, )* }
            }
        }

        #[doc = concat!("SoA columns, row views and field accessors of [`", stringify!($name), "`].")]
        $vis mod $module {
            #![allow(unused_imports)]
            use super::*;
            use $crate::entity::Entity;
            use $crate::storage::{DenseRows, Field, Rows};

            /// One row, shared.
            #[derive(Clone, Copy)]
            pub struct Ref<'a> {
                /// The owning entity.
                pub entity: &'a Entity,
                $( #[allow(missing_docs)] pub $field: &'a $ty, )*
            }

            /// One row, mutable (the entity stays shared: it identifies the row).
            pub struct Mut<'a> {
                /// The owning entity.
                pub entity: &'a Entity,
                $( #[allow(missing_docs)] pub $field: &'a mut $ty, )*
            }

            /// One `Vec` per field, all of the same length.
            #[derive(Default, Clone, Debug)]
            pub struct Columns {
                entity: Vec<Entity>,
                $( $field: Vec<$ty>, )*
            }

            /// Shared column slices.
            #[derive(Clone, Copy)]
            pub struct ColumnsRef<'a> {
                /// Entities, one per row.
                pub entity: &'a [Entity],
                $( #[allow(missing_docs)] pub $field: &'a [$ty], )*
            }

            /// Mutable column slices (entities stay shared).
            pub struct ColumnsMut<'a> {
                /// Entities, one per row.
                pub entity: &'a [Entity],
                $( #[allow(missing_docs)] pub $field: &'a mut [$ty], )*
            }

            /// One accessor per field, for [`Storage::slice_of`]($crate::storage::Storage::slice_of).
            #[allow(dead_code)]
            pub struct Fields {
                $( #[allow(missing_docs)] pub $field: Field<super::$name, $ty>, )*
            }

            #[doc = concat!("Where the fields of [`", stringify!($name), "`](super::", stringify!($name), ") and its AoS row sit in memory.")]
            #[allow(dead_code)]
            pub const LAYOUT: $crate::storage::layout::BundleLayout =
                <super::$name as $crate::storage::Bundle>::LAYOUT;

            #[doc = concat!("The fields of [`", stringify!($name), "`](super::", stringify!($name), ").")]
            #[allow(dead_code)]
            pub const FIELDS: Fields = Fields {
                $( $field: Field::new(
                    stringify!($field),
                    |c: &Columns| &c.$field[..],
                    |row: &super::$name| &row.$field,
                ), )*
            };

            impl<'a> Rows<'a> for ColumnsRef<'a> {
                type Item = Ref<'a>;
                fn len(&self) -> usize {
                    self.entity.len()
                }
                fn split_at(self, mid: usize) -> (Self, Self) {
                    let (ea, eb) = self.entity.split_at(mid);
                    $( let $field = self.$field.split_at(mid); )*
                    (
                        ColumnsRef { entity: ea, $( $field: $field.0, )* },
                        ColumnsRef { entity: eb, $( $field: $field.1, )* },
                    )
                }
                #[inline]
                fn for_each(self, mut f: impl FnMut(Ref<'a>)) {
                    // Zipped slice iterators compile to one indexed loop with no per-column
                    // bounds checks, which LLVM can vectorise.
                    $crate::__private::izip!(self.entity.iter(), $( self.$field.iter() ),*)
                        .for_each(|(entity, $( $field ),*)| f(Ref { entity, $( $field, )* }));
                }
            }

            impl<'a> Rows<'a> for ColumnsMut<'a> {
                type Item = Mut<'a>;
                fn len(&self) -> usize {
                    self.entity.len()
                }
                fn split_at(self, mid: usize) -> (Self, Self) {
                    let (ea, eb) = self.entity.split_at(mid);
                    $( let $field = self.$field.split_at_mut(mid); )*
                    (
                        ColumnsMut { entity: ea, $( $field: $field.0, )* },
                        ColumnsMut { entity: eb, $( $field: $field.1, )* },
                    )
                }
                #[inline]
                fn for_each(self, mut f: impl FnMut(Mut<'a>)) {
                    $crate::__private::izip!(self.entity.iter(), $( self.$field.iter_mut() ),*)
                        .for_each(|(entity, $( $field ),*)| f(Mut { entity, $( $field, )* }));
                }
            }

            impl DenseRows<super::$name> for Columns {
                type Ref<'a> = ColumnsRef<'a>;
                type Mut<'a> = ColumnsMut<'a>;
                fn len(&self) -> usize {
                    self.entity.len()
                }
                fn capacity(&self) -> usize {
                    self.entity.capacity() $( .min(self.$field.capacity()) )*
                }
                fn heap_bytes(&self) -> usize {
                    self.entity.capacity() * size_of::<Entity>()
                        $( + self.$field.capacity() * size_of::<$ty>() )*
                }
                fn reserve(&mut self, additional: usize) {
                    self.entity.reserve(additional);
                    $( self.$field.reserve(additional); )*
                }
                fn push_row(&mut self, entity: Entity, row: super::$name) {
                    self.entity.push(entity);
                    $( self.$field.push(row.$field); )*
                }
                fn gather_rows(&mut self, src: &Self, order: &[u32]) {
                    // A plain indexed copy per column, the columns spread over the current
                    // rayon pool's workers. An entry past the end reads the last row:
                    // the order may still be being checked.
                    fn column<T: Copy>(dst: &mut Vec<T>, src: &[T], order: &[u32]) {
                        dst.clear();
                        let Some(last) = src.len().checked_sub(1) else { return };
                        dst.extend(order.iter().map(|&i| src[(i as usize).min(last)]));
                    }
                    if order.len() <= $crate::parallel::PARALLEL_MIN_ROWS {
                        column(&mut self.entity, &src.entity, order);
                        $( column(&mut self.$field, &src.$field, order); )*
                        return;
                    }
                    $crate::__private::join_all(&mut [
                        &mut || column(&mut self.entity, &src.entity, order),
                        $( &mut || column(&mut self.$field, &src.$field, order), )*
                    ]);
                }
                fn set_rows(&mut self, writes: &[$crate::storage::RowWrite<super::$name>]) {
                    use $crate::storage::write_column;
                    // One column per task; many writes are spread over the current rayon
                    // pool's workers.
                    let mut tasks: [&mut (dyn FnMut() + Send); _] = [
                        &mut || write_column(&mut self.entity, writes, |w| w.entity),
                        $( &mut || write_column(&mut self.$field, writes, |w| w.bundle.$field), )*
                    ];
                    if writes.len() <= $crate::storage::PARALLEL_MIN_WRITES {
                        tasks.iter_mut().for_each(|task| task());
                    } else {
                        $crate::__private::join_all(&mut tasks);
                    }
                }
                fn swap_remove_row(&mut self, i: usize) -> super::$name {
                    self.entity.swap_remove(i);
                    super::$name { $( $field: self.$field.swap_remove(i), )* }
                }
                fn set_row(&mut self, i: usize, entity: Entity, row: super::$name) {
                    self.entity[i] = entity;
                    $( self.$field[i] = row.$field; )*
                }
                fn get(&self, i: usize) -> super::$name {
                    super::$name { $( $field: self.$field[i], )* }
                }
                fn entity(&self, i: usize) -> Entity {
                    self.entity[i]
                }
                fn row_mut(&mut self, i: usize) -> Mut<'_> {
                    Mut { entity: &self.entity[i], $( $field: &mut self.$field[i], )* }
                }
                fn rows(&self) -> ColumnsRef<'_> {
                    ColumnsRef { entity: &self.entity, $( $field: &self.$field, )* }
                }
                fn rows_mut(&mut self) -> ColumnsMut<'_> {
                    ColumnsMut { entity: &self.entity, $( $field: &mut self.$field, )* }
                }
            }
        }
    };
}
