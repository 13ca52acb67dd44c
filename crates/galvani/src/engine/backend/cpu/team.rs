//! The CPU backend's threads: a team of workers that stays alive for the whole
//! simulation and runs one round per stage, partition `i` on member `i` (the caller is
//! member 0).
//!
//! Why not a rayon pool per call: a step of a small network is a few microseconds of
//! work, and handing a job to a sleeping pool thread costs a futex wake-up and a
//! reschedule, about 15–20 µs per step on the development machine; CUBA 4000 ran 2.6×
//! slower on 2 threads than on 1. Here a round is announced by bumping an atomic epoch;
//! a worker waiting for it spins briefly (the gap between the rounds of consecutive
//! steps is short), then yields, and only after [`SPIN`] parks, so an idle simulation
//! costs no CPU, and the caller unparks only workers that actually went to sleep.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a waiting worker keeps checking before it parks.
const SPIN: Duration = Duration::from_micros(200);

/// The job of the current round: a lifetime-erased pointer to the caller's closure.
#[derive(Clone, Copy)]
struct Job(*const (dyn Fn(usize) + Sync));
// SAFETY: the closure is `Sync`, and `Team::run` keeps it alive until every worker has
// finished the round (see there).
unsafe impl Send for Job {}
unsafe impl Sync for Job {}

struct Shared {
    /// Bumped by the caller to start a round.
    epoch: AtomicU64,
    /// Workers done with the current round.
    done: AtomicUsize,
    /// The round's job, written before `epoch` is bumped.
    job: std::sync::Mutex<Option<Job>>,
    /// Per worker: it is parked (or about to park) and must be unparked.
    asleep: Vec<AtomicBool>,
    /// A worker's job panicked in this round.
    panicked: AtomicBool,
    stop: AtomicBool,
}

/// `members − 1` worker threads plus the caller.
pub struct Team {
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
}

/// Waits until `ready()`: spins, then yields, then (when `park` is given) parks after
/// [`SPIN`], marking itself asleep first so that whoever makes it ready unparks it.
fn wait(ready: impl Fn() -> bool, park: Option<&AtomicBool>) {
    let t0 = Instant::now();
    let mut k = 0u32;
    while !ready() {
        k += 1;
        if k < 64 {
            std::hint::spin_loop();
        } else if t0.elapsed() < SPIN || park.is_none() {
            std::thread::yield_now();
        } else if let Some(flag) = park {
            flag.store(true, Ordering::SeqCst);
            if !ready() {
                std::thread::park_timeout(Duration::from_millis(10));
            }
            flag.store(false, Ordering::SeqCst);
        }
    }
}

impl Team {
    /// A team of `members` (the caller and `members − 1` new threads).
    pub fn new(members: usize) -> std::io::Result<Team> {
        let workers = members.saturating_sub(1);
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            done: AtomicUsize::new(0),
            job: std::sync::Mutex::new(None),
            asleep: (0..workers).map(|_| AtomicBool::new(false)).collect(),
            panicked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let sh = shared.clone();
            handles.push(
                std::thread::Builder::new()
                    .name(format!("galvani-cpu-{}", w + 1))
                    .spawn(move || {
                        let mut seen = 0u64;
                        loop {
                            wait(
                                || sh.epoch.load(Ordering::Acquire) != seen,
                                Some(&sh.asleep[w]),
                            );
                            seen = sh.epoch.load(Ordering::Acquire);
                            if sh.stop.load(Ordering::Acquire) {
                                return;
                            }
                            let job = sh.job.lock().unwrap().expect("a job with each round");
                            // SAFETY: `run` keeps the closure alive until `done` counts us.
                            let f = unsafe { &*job.0 };
                            if catch_unwind(AssertUnwindSafe(|| f(w + 1))).is_err() {
                                sh.panicked.store(true, Ordering::SeqCst);
                            }
                            sh.done.fetch_add(1, Ordering::AcqRel);
                        }
                    })?,
            );
        }
        Ok(Team { shared, handles })
    }

    /// Members, the caller included.
    pub fn members(&self) -> usize {
        self.handles.len() + 1
    }

    /// Runs `f(i)` for every member `i` at once, `f(0)` on the calling thread, and
    /// returns when all are done. A panic in any member is raised here after the round.
    pub fn run(&self, f: &(dyn Fn(usize) + Sync)) {
        let sh = &*self.shared;
        // SAFETY (lifetime erasure): the workers call the closure only between the
        // epoch bump below and their `done` increment, and this function does not
        // return (nor unwind) before `done` counts every worker.
        let job: *const (dyn Fn(usize) + Sync + '_) = f;
        let job = Job(unsafe { std::mem::transmute::<_, *const (dyn Fn(usize) + Sync)>(job) });
        *sh.job.lock().unwrap() = Some(job);
        sh.done.store(0, Ordering::Release);
        sh.epoch.fetch_add(1, Ordering::AcqRel);
        for (h, asleep) in self.handles.iter().zip(&sh.asleep) {
            if asleep.load(Ordering::SeqCst) {
                h.thread().unpark();
            }
        }
        let mine = catch_unwind(AssertUnwindSafe(|| f(0)));
        let workers = self.handles.len();
        wait(|| sh.done.load(Ordering::Acquire) == workers, None);
        *sh.job.lock().unwrap() = None;
        if let Err(e) = mine {
            resume_unwind(e);
        }
        if sh.panicked.swap(false, Ordering::SeqCst) {
            panic!("a CPU backend thread panicked");
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.epoch.fetch_add(1, Ordering::AcqRel);
        for h in &self.handles {
            h.thread().unpark();
        }
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
