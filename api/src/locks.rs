//! Locks on request paths. A panic while a lock was held must not turn every later request
//! into a 500, so a poisoned lock is taken as it is: what these locks guard (caches, counters)
//! is at worst a little off after such a panic, never unsafe to read.

use std::sync::{Mutex, MutexGuard, PoisonError};

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
