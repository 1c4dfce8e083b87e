//! Running tasks on the pool and appending their outputs in task order as they finish.
//!
//! Workers take tasks in order from a shared counter, so outputs finish nearly in order; one
//! thread at a time appends every output that is next in line (while the others keep
//! working), and an early one waits in a small queue. Each output is appended — and its
//! memory freed for the next task — soon after it is made, instead of all living until a
//! merge at the end.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

/// What outputs are appended to, in task order.
pub(super) trait Append {
    type Output: Send;

    fn append(&mut self, output: Self::Output);
}

/// Runs `work` on every task on the pool's threads, appending the outputs to `assembly` in
/// task order; returns the assembly once every task has been appended.
pub(super) fn in_order<T: Sync, A: Append + Send>(
    tasks: &[T],
    assembly: A,
    work: impl Fn(&T) -> A::Output + Sync,
) -> A {
    let delivery = Delivery {
        queue: Mutex::new(Queue {
            next: 0,
            parked: BTreeMap::new(),
            appending: false,
        }),
        assembly: Mutex::new(assembly),
    };
    let next_task = AtomicUsize::new(0);
    let workers = rayon::current_num_threads().clamp(1, tasks.len().max(1));
    (0..workers).into_par_iter().for_each(|_| loop {
        let i = next_task.fetch_add(1, Ordering::Relaxed);
        let Some(task) = tasks.get(i) else { break };
        delivery.deliver(i, work(task));
    });
    let q = delivery
        .queue
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    debug_assert!(q.parked.is_empty() && !q.appending);
    delivery
        .assembly
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
}

struct Delivery<A: Append> {
    queue: Mutex<Queue<A::Output>>,
    assembly: Mutex<A>,
}

struct Queue<O> {
    /// The task whose output is appended next.
    next: usize,
    parked: BTreeMap<usize, O>,
    /// A thread is appending (and will take what is parked meanwhile).
    appending: bool,
}

impl<A: Append> Delivery<A> {
    fn deliver(&self, task: usize, done: A::Output) {
        let mut q = lock(&self.queue);
        q.parked.insert(task, done);
        if q.appending {
            return;
        }
        q.appending = true;
        loop {
            let mut ready = Vec::new();
            let q_ = &mut *q;
            while let Some(o) = q_.parked.remove(&q_.next) {
                ready.push(o);
                q_.next += 1;
            }
            if ready.is_empty() {
                q.appending = false;
                return;
            }
            drop(q);
            let mut a = lock(&self.assembly);
            for done in ready {
                a.append(done);
            }
            drop(a);
            q = lock(&self.queue);
        }
    }
}

/// Locks a mutex of the delivery; a panic while it was held (a bug) is passed on by rayon,
/// so the state behind a poisoned lock is never read.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<usize>);

    impl Append for Collect {
        type Output = usize;

        fn append(&mut self, output: usize) {
            self.0.push(output);
        }
    }

    #[test]
    fn outputs_are_appended_in_task_order_whatever_order_they_finish_in() {
        let tasks: Vec<usize> = (0..500).collect();
        let done = in_order(&tasks, Collect(Vec::new()), |&t| {
            // Later tasks often finish first.
            std::thread::sleep(std::time::Duration::from_micros((500 - t as u64) % 7 * 50));
            t * 2
        });
        assert_eq!(done.0, tasks.iter().map(|t| t * 2).collect::<Vec<_>>());
        assert!(in_order(&[] as &[usize], Collect(Vec::new()), |&t| t)
            .0
            .is_empty());
    }
}
