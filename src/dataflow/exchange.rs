//! [`Exchanger`]: one keyed exchange between all workers of a timely
//! computation, run to completion.
//!
//! Every stage of a distributed scan is "each worker sends records to the
//! workers that own their keys, then each worker works on what it got". One
//! round is one small timely dataflow: an input, an exchange channel routed
//! by the destination each record names, and an operator that hands the
//! received records to the caller; a probe says when every worker's records
//! have arrived. All workers run the same rounds in the same order (timely
//! matches dataflows by the order they are built), so a worker that failed
//! still takes part in the rounds that follow, sending nothing, and the
//! computation ends everywhere instead of waiting for it.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Probe;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::vec::Input;
use timely::worker::Worker;

use crate::Error;

/// Records sent between input flushes: the receivers take them while the
/// sender keeps going, so no worker holds a whole round in its buffers.
const SEND_BATCH: u64 = 1024;

/// Approximate payload bytes of a record on the wire (its data, not
/// timely's framing): what the exchange counts as network traffic.
pub trait WireSize {
    /// Payload bytes.
    fn wire_size(&self) -> usize;
}

macro_rules! fixed_wire_size {
    ($($t:ty),*) => {
        $(impl WireSize for $t {
            fn wire_size(&self) -> usize {
                std::mem::size_of::<$t>()
            }
        })*
    };
}
fixed_wire_size!(u8, u32, u64, u128);

macro_rules! fixed_vec_wire_size {
    ($($t:ty),*) => {
        $(impl WireSize for Vec<$t> {
            fn wire_size(&self) -> usize {
                8 + self.len() * std::mem::size_of::<$t>()
            }
        })*
    };
}
fixed_vec_wire_size!(u8, u32, u64, (u32, u32), (u64, u32));

impl<A: WireSize, B: WireSize> WireSize for (A, B) {
    fn wire_size(&self) -> usize {
        self.0.wire_size() + self.1.wire_size()
    }
}

impl<A: WireSize, B: WireSize, C: WireSize> WireSize for (A, B, C) {
    fn wire_size(&self) -> usize {
        self.0.wire_size() + self.1.wire_size() + self.2.wire_size()
    }
}

impl WireSize for String {
    fn wire_size(&self) -> usize {
        8 + self.len()
    }
}

/// Bytes one round sent to workers of other processes.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoundTraffic {
    /// The round's name.
    pub round: String,
    /// Records sent.
    pub records: u64,
    /// Payload bytes sent to other processes.
    pub remote_bytes: u64,
    /// Payload bytes sent to workers of the same process.
    pub local_bytes: u64,
    /// Seconds of this worker's own work since the round before.
    pub work_seconds: f64,
    /// Seconds from the first record sent to the last one received.
    pub round_seconds: f64,
}

/// Runs keyed exchanges on one timely worker and remembers the first error
/// of this worker.
pub struct Exchanger<'w> {
    worker: &'w mut Worker,
    workers_per_process: usize,
    failed: Option<Error>,
    traffic: Vec<RoundTraffic>,
    /// When the last round ended.
    last: std::time::Instant,
}

impl<'w> Exchanger<'w> {
    /// Wraps `worker`, one of `workers_per_process` threads of its process.
    pub fn new(worker: &'w mut Worker, workers_per_process: usize) -> Self {
        Exchanger {
            worker,
            workers_per_process: workers_per_process.max(1),
            failed: None,
            traffic: Vec::new(),
            last: std::time::Instant::now(),
        }
    }

    /// This worker's index among all workers.
    pub fn index(&self) -> usize {
        self.worker.index()
    }

    /// The number of workers in the computation.
    pub fn peers(&self) -> usize {
        self.worker.peers()
    }

    /// True when this worker has failed: it still takes part in rounds, but
    /// sends nothing.
    pub fn failed(&self) -> bool {
        self.failed.is_some()
    }

    /// Keeps the first error of this worker.
    pub fn fail(&mut self, error: Error) {
        self.failed.get_or_insert(error);
    }

    /// Runs `work` unless this worker has failed, keeping its error.
    pub fn attempt<T: Default>(&mut self, work: impl FnOnce() -> crate::Result<T>) -> T {
        if self.failed() {
            return T::default();
        }
        work().unwrap_or_else(|e| {
            self.fail(e);
            T::default()
        })
    }

    /// The error this worker failed with, and the traffic of its rounds.
    pub fn finish(self) -> (Option<Error>, Vec<RoundTraffic>) {
        (self.failed, self.traffic)
    }

    /// The traffic of the rounds run so far.
    pub fn traffic(&self) -> &[RoundTraffic] {
        &self.traffic
    }

    /// One round: sends every `(destination worker, record)` of `records`
    /// (none if this worker has failed) and calls `receive` with the
    /// records this worker is sent, in batches, until every worker's
    /// records have arrived.
    pub fn round<D, I>(&mut self, name: &str, records: I, receive: impl FnMut(Vec<D>))
    where
        D: timely::ExchangeData + Clone + WireSize,
        I: IntoIterator<Item = (usize, D)>,
    {
        self.round_from(
            name,
            |send| {
                records.into_iter().for_each(|(to, record)| send(to, record));
                Ok(())
            },
            receive,
        );
    }

    /// A round whose records `produce` hands to the `send` it is given as
    /// it makes them (so that they need not be held first), with the same
    /// receiving as [`Self::round`]. `produce` is not called if this worker
    /// has failed; an error it returns fails the worker.
    pub fn round_from<D>(
        &mut self,
        name: &str,
        produce: impl FnOnce(&mut dyn FnMut(usize, D)) -> crate::Result<()>,
        receive: impl FnMut(Vec<D>),
    ) where
        D: timely::ExchangeData + Clone + WireSize,
    {
        let send = !self.failed();
        if let Err(e) = self.run_round(name, produce, receive, send) {
            self.fail(e);
        }
    }

    /// A round in which this worker sends `records` even if it has failed
    /// (to report the failure).
    pub fn round_always<D, I>(&mut self, name: &str, records: I, receive: impl FnMut(Vec<D>))
    where
        D: timely::ExchangeData + Clone + WireSize,
        I: IntoIterator<Item = (usize, D)>,
    {
        let produce = |send: &mut dyn FnMut(usize, D)| {
            records.into_iter().for_each(|(to, record)| send(to, record));
            Ok(())
        };
        if let Err(e) = self.run_round(name, produce, receive, true) {
            self.fail(e);
        }
    }

    fn run_round<D>(
        &mut self,
        name: &str,
        produce: impl FnOnce(&mut dyn FnMut(usize, D)) -> crate::Result<()>,
        mut receive: impl FnMut(Vec<D>),
        send: bool,
    ) -> crate::Result<()>
    where
        D: timely::ExchangeData + Clone + WireSize,
    {
        let began = std::time::Instant::now();
        let peers = self.peers();
        let process = self.index() / self.workers_per_process;
        let received: Rc<RefCell<Vec<D>>> = Rc::default();
        let sink = Rc::clone(&received);
        let (input, probe) = self.worker.dataflow::<u64, _, _>(|scope| {
            let (input, stream) = scope.new_input::<(usize, D)>();
            let (probe, _) = stream
                .unary::<timely::container::CapacityContainerBuilder<Vec<()>>, _, _, _>(
                    Exchange::new(move |record: &(usize, D)| (record.0 % peers) as u64),
                    name,
                    move |_, _| {
                        move |input, _output| {
                            input.for_each(|_, data| {
                                sink.borrow_mut().extend(data.drain(..).map(|(_, d)| d))
                            });
                        }
                    },
                )
                .probe();
            (input, probe)
        });
        let mut input = ContainedOnUnwind(Some(input));
        let mut traffic = RoundTraffic { round: name.to_string(), ..RoundTraffic::default() };
        let mut produced = Ok(());
        if let (true, Some(handle)) = (send, input.0.as_mut()) {
            let workers_per_process = self.workers_per_process;
            let worker = &mut *self.worker;
            let mut send_one = |to: usize, record: D| {
                let bytes = record.wire_size() as u64;
                if to % peers / workers_per_process == process {
                    traffic.local_bytes += bytes;
                } else {
                    traffic.remote_bytes += bytes;
                }
                traffic.records += 1;
                handle.send((to, record));
                if traffic.records.is_multiple_of(SEND_BATCH) {
                    handle.flush();
                    worker.step();
                    take(&received, &mut receive);
                }
            };
            produced = produce(&mut send_one);
        }
        // Dropping the handle closes the round's input. Not unwinding here,
        // the guard lets a panic of the close through, to fail the round.
        drop(input);
        while !probe.done() {
            // Parked, a worker is woken by its channels; a peer that dies
            // does not always wake it (a same-process worker that stopped
            // while sending does not), so it wakes now and then to find the
            // broken channels and stop instead of waiting for ever.
            self.worker.step_or_park(Some(PEER_CHECK));
            take(&received, &mut receive);
        }
        take(&received, &mut receive);
        traffic.work_seconds = (began - self.last).as_secs_f64();
        self.last = std::time::Instant::now();
        traffic.round_seconds = (self.last - began).as_secs_f64();
        self.traffic.push(traffic);
        produced
    }
}

/// How long a worker waiting for a round's records stays parked before it
/// checks its channels again.
const PEER_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// Holds a value whose drop may panic while the worker is already
/// unwinding, and then contains that second panic.
///
/// When a peer process dies, timely's network threads stop and poison the
/// worker's channels, so the worker panics at its next send or receive.
/// Unwinding drops the round's input handle, whose drop flushes into the
/// poisoned channel and panics again: a panic escaping a drop during
/// unwinding aborts the process, instead of letting the caller report the
/// lost peer. Leaking the handle instead is no way out: it holds the
/// channel open, and timely's send thread then waits for ever for it to
/// close. So the handle is dropped, and its panic caught.
struct ContainedOnUnwind<T>(Option<T>);

impl<T> Drop for ContainedOnUnwind<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            if std::thread::panicking() {
                // The first panic is already on its way to the caller.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| drop(value)));
            } else {
                drop(value);
            }
        }
    }
}

/// Hands what has arrived to `receive`.
fn take<D>(received: &Rc<RefCell<Vec<D>>>, receive: &mut impl FnMut(Vec<D>)) {
    let batch = std::mem::take(&mut *received.borrow_mut());
    if !batch.is_empty() {
        receive(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::ContainedOnUnwind;

    /// Stands for an input handle whose drop flushes into a broken channel.
    struct PanicsOnDrop;

    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("flushed into a broken channel");
        }
    }

    fn message(payload: Box<dyn std::any::Any + Send>) -> String {
        payload.downcast_ref::<&str>().map_or_else(|| "?".into(), |s| (*s).to_owned())
    }

    #[test]
    fn a_drop_that_panics_while_unwinding_leaves_the_first_panic() {
        // Without the containment this aborts the whole test binary.
        let caught = std::panic::catch_unwind(|| {
            let _input = ContainedOnUnwind(Some(PanicsOnDrop));
            panic!("lost a peer");
        });
        assert_eq!(message(caught.unwrap_err()), "lost a peer");
    }

    #[test]
    fn a_drop_that_panics_otherwise_is_not_hidden() {
        let caught = std::panic::catch_unwind(|| drop(ContainedOnUnwind(Some(PanicsOnDrop))));
        assert_eq!(message(caught.unwrap_err()), "flushed into a broken channel");
    }
}
