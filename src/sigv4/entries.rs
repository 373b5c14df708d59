//! The storage both key caches share: a few entries behind a lock, the oldest pushed out when
//! full. A cache holds the keys of the one or two credentials a process signs with, so a short
//! list searched in order beats a map.

use std::sync::{Mutex, MutexGuard};

pub(super) struct Entries<E, const CAPACITY: usize> {
    list: Mutex<Vec<E>>,
}

impl<E, const CAPACITY: usize> Entries<E, CAPACITY> {
    pub(super) const fn new() -> Self {
        Self {
            list: Mutex::new(Vec::new()),
        }
    }

    /// The entries. A panic elsewhere cannot leave one half-written (they are pushed whole), so a
    /// poisoned lock is still read.
    pub(super) fn lock(&self) -> MutexGuard<'_, Vec<E>> {
        self.list.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Caches `entry` in place of any entry `same` matches (another thread may have cached the
    /// same key meanwhile: one entry per key), pushing out the oldest when full.
    pub(super) fn insert(&self, entry: E, same: impl Fn(&E) -> bool) {
        let mut list = self.lock();
        list.retain(|e| !same(e));
        if list.len() == CAPACITY {
            list.remove(0);
        }
        list.push(entry);
    }
}
