//! Blocking work (Argon2, the recovery search, network requests) on a thread of its own, awaited
//! from the caller's coroutine or task without blocking it. If the caller is cancelled, the future
//! is dropped and the result, when it comes, is dropped with it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

struct State<T> {
    value: Option<T>,
    done: bool,
    waker: Option<Waker>,
}

type Shared<T> = Arc<Mutex<State<T>>>;

fn lock<T>(s: &Mutex<State<T>>) -> std::sync::MutexGuard<'_, State<T>> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks the work finished when dropped — after it returned, or while a panic unwinds out of it.
struct Finish<T>(Shared<T>, Option<T>);

impl<T> Drop for Finish<T> {
    fn drop(&mut self) {
        let waker = {
            let mut s = lock(&self.0);
            s.value = self.1.take();
            s.done = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The result of [`spawn`]: `None` when the work panicked or no thread could be started.
pub(crate) struct Background<T>(Shared<T>);

impl<T> Future for Background<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut s = lock(&self.0);
        if s.done {
            return Poll::Ready(s.value.take());
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Starts a thread for one job. Not generic, so the thread machinery exists once in the phone
/// library rather than once per result type.
fn start(job: Box<dyn FnOnce() + Send>) -> bool {
    std::thread::Builder::new().spawn(job).is_ok()
}

/// Runs `work` on a new thread.
pub(crate) fn spawn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Background<T> {
    let shared: Shared<T> = Arc::new(Mutex::new(State { value: None, done: false, waker: None }));
    let finish = Finish(shared.clone(), None);
    let started = start(Box::new(move || {
        let mut finish = finish;
        finish.1 = Some(work());
    }));
    if !started {
        // The closure (and its `Finish`) was dropped: the future reports "no result".
        lock(&shared).done = true;
    }
    Background(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    #[test]
    fn results_arrive_and_a_panic_is_no_result() {
        assert_eq!(block_on(spawn(|| 6 * 7)), Some(42));
        assert_eq!(block_on(spawn(|| -> u8 { panic!("boom") })), None);
        let slow = spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            "late"
        });
        assert_eq!(block_on(slow), Some("late"));
    }
}
