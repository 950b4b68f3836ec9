//! Blocking work (Argon2, the recovery search, network requests) on a thread of its own, awaited
//! from the caller's coroutine or task without blocking it. If the caller is cancelled, the future
//! is dropped and the result, when it comes, is dropped with it.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A job's result, type-erased: the thread machinery and the future below exist once in the phone
/// library rather than once per result type (each copy costs kilobytes of the 2.2 MB budget).
type Value = Box<dyn Any + Send>;

struct State {
    value: Option<Value>,
    done: bool,
    waker: Option<Waker>,
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks the work finished when dropped — after it returned, or while a panic unwinds out of it.
struct Finish(Shared, Option<Value>);

impl Drop for Finish {
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

/// A started job: `None` when it panicked or no thread could be started.
struct Background(Shared);

impl Future for Background {
    type Output = Option<Value>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Value>> {
        let mut s = lock(&self.0);
        if s.done {
            return Poll::Ready(s.value.take());
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Starts a thread for one job.
fn start(job: Box<dyn FnOnce() -> Value + Send>) -> Background {
    let shared: Shared = Arc::new(Mutex::new(State { value: None, done: false, waker: None }));
    let finish = Finish(shared.clone(), None);
    let started = std::thread::Builder::new().spawn(move || {
        let mut finish = finish;
        finish.1 = Some(job());
    });
    if started.is_err() {
        // The closure (and its `Finish`) was dropped: the future reports "no result".
        lock(&shared).done = true;
    }
    Background(shared)
}

/// Runs `work` on a new thread; `None` when it panicked or no thread could be started. Dropping
/// the future before it is ready drops the result when it comes.
pub(crate) fn spawn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> impl Future<Output = Option<T>> + Send {
    let job = start(Box::new(move || Box::new(work()) as Value));
    async move { job.await.and_then(|v| v.downcast::<T>().ok()).map(|b| *b) }
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
