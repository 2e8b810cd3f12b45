//! Starting the cluster: one TCP connection between every two processes,
//! made and checked here, then handed to timely, which runs the workers on
//! them ([`start_workers`]).
//!
//! timely can connect the processes itself, but its connection step prints
//! progress on standard output (where `--format jsonl` writes the pairs),
//! waits for ever for a process that never starts, and panics on a
//! connection that is not from one of its processes. So every connection
//! here opens with a [`Greeting`] both ways: the process's number and the
//! run's settings. A process started with other flags is refused with a
//! message that says which flag differs, a stray connection (a port
//! scanner, a process of an older run) is dropped, and a process that has
//! not appeared before the caller's patience runs out fails the run with
//! the addresses it waited for. The checked streams go to timely's
//! `initialize_networking_from_sockets`, which from there runs exactly as
//! when it connects the processes itself.
//!
//! As in timely, process `i` connects to every process before it and
//! accepts connections from every process after it; the waits only ever
//! point to lower numbers, so the processes can start in any order.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::communication::{Hooks, WorkerGuards};
use timely::worker::Worker;

use super::ClusterConfig;
use crate::{Error, Result};

/// Opens every greeting: the protocol's name and version.
const MAGIC: [u8; 8] = *b"neardup\x01";

/// Bytes of a greeting on the wire: the magic and four little-endian u64s.
const GREETING_BYTES: usize = 8 + 4 * 8;

/// How long a connection may take to greet before it is taken for a stray
/// one; also the longest single connection attempt.
const GREETING_PATIENCE: Duration = Duration::from_secs(10);

/// Pause between attempts to reach a process that is not listening yet.
const RETRY: Duration = Duration::from_millis(100);

/// What each end of a connection says first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Greeting {
    /// The sender's process number.
    pub process: u64,
    /// The number of processes the sender was started with.
    pub processes: u64,
    /// Worker threads per process the sender was started with.
    pub workers: u64,
    /// A fingerprint of everything else that must be the same in every
    /// process: the command and the detection settings.
    pub settings: u64,
}

impl Greeting {
    fn to_bytes(self) -> [u8; GREETING_BYTES] {
        let mut bytes = [0; GREETING_BYTES];
        bytes[..8].copy_from_slice(&MAGIC);
        let fields = [self.process, self.processes, self.workers, self.settings];
        for (chunk, field) in bytes[8..].chunks_exact_mut(8).zip(fields) {
            chunk.copy_from_slice(&field.to_le_bytes());
        }
        bytes
    }

    /// `None` unless the bytes open with [`MAGIC`].
    fn from_bytes(bytes: &[u8; GREETING_BYTES]) -> Option<Greeting> {
        if bytes[..8] != MAGIC {
            return None;
        }
        let field = |i: usize| {
            let mut word = [0; 8];
            word.copy_from_slice(&bytes[8 + 8 * i..16 + 8 * i]);
            u64::from_le_bytes(word)
        };
        Some(Greeting {
            process: field(0),
            processes: field(1),
            workers: field(2),
            settings: field(3),
        })
    }

    /// Checks that `them`, heard on the connection to process `peer`,
    /// belongs to the same run as `self`.
    fn check(&self, them: &Greeting, peer: usize) -> Result<()> {
        let me = self.process;
        let problem = if them.process != peer as u64 {
            format!(
                "process {me} reached process {} where the hostfile puts process {peer}: give \
                 every process the same hostfile",
                them.process
            )
        } else if them.processes != self.processes {
            format!(
                "process {peer} was started with --processes {}, process {me} with --processes {}",
                them.processes, self.processes
            )
        } else if them.workers != self.workers {
            format!(
                "process {peer} was started with --workers {}, process {me} with --workers {}",
                them.workers, self.workers
            )
        } else if them.settings != self.settings {
            format!(
                "process {peer} runs another command or other detection settings than process {me}"
            )
        } else {
            return Ok(());
        };
        Err(Error::Cluster(format!(
            "{problem}: start every process with the same command and flags"
        )))
    }
}

/// Connects this process (`me.process`) to every other process at
/// `addresses` (one per process, in order) and checks their greetings.
/// Returns one stream per process, `None` at this process's place.
///
/// Fails when a process has not connected before `patience` has passed,
/// when a process greets with other settings, or when this process cannot
/// listen on its own address.
pub fn connect(
    addresses: &[String],
    me: Greeting,
    patience: Duration,
) -> Result<Vec<Option<TcpStream>>> {
    let clock = Clock { deadline: Instant::now() + patience, patience };
    let index = me.process as usize;
    let own = &addresses[index];
    let listener = TcpListener::bind(own.as_str()).map_err(|e| {
        Error::Cluster(format!("process {index} cannot listen on {own} (its hostfile line): {e}"))
    })?;
    let mut streams: Vec<Option<TcpStream>> = addresses.iter().map(|_| None).collect();
    for (peer, address) in addresses.iter().enumerate().take(index) {
        streams[peer] = Some(dial(address, peer, me, clock)?);
    }
    accept(&listener, &mut streams, me, clock, addresses)?;
    for stream in streams.iter().flatten() {
        stream.set_read_timeout(None).map_err(network)?;
        stream.set_nodelay(true).map_err(network)?;
    }
    Ok(streams)
}

/// When the processes must have connected.
#[derive(Clone, Copy)]
struct Clock {
    deadline: Instant,
    /// The patience the deadline was set with, for messages.
    patience: Duration,
}

impl Clock {
    /// Time left, at least a moment (for timeouts, which cannot be 0).
    fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(10))
    }

    /// True when waiting `pause` more would pass the deadline.
    fn runs_out_within(&self, pause: Duration) -> bool {
        Instant::now() + pause >= self.deadline
    }
}

/// Connects to process `peer` at `address`, retrying until the deadline.
fn dial(address: &str, peer: usize, me: Greeting, clock: Clock) -> Result<TcpStream> {
    loop {
        let last = match try_dial(address, me, clock.left()) {
            Ok(mut stream) => {
                let them = read_greeting(&mut stream).map_err(|e| {
                    let what = if e.kind() == ErrorKind::InvalidData {
                        "answered, but not as a process of neardup's cluster protocol version 1"
                            .to_string()
                    } else {
                        format!("accepted the connection but did not answer ({e}); did it stop?")
                    };
                    Error::Cluster(format!(
                        "process {}: {address} (process {peer} in the hostfile) {what}",
                        me.process
                    ))
                })?;
                me.check(&them, peer)?;
                return Ok(stream);
            }
            Err(e) => e,
        };
        if clock.runs_out_within(RETRY) {
            return Err(Error::Cluster(format!(
                "process {} could not reach process {peer} at {address} within {} s ({last}): \
                 start every process of the hostfile, or allow longer with --connect-timeout",
                me.process,
                clock.patience.as_secs_f64()
            )));
        }
        std::thread::sleep(RETRY);
    }
}

/// One attempt: connects to the first of `address`'s resolutions that
/// answers and sends the greeting; `left` is the time to the deadline.
fn try_dial(address: &str, me: Greeting, left: Duration) -> std::io::Result<TcpStream> {
    let wait = left.min(GREETING_PATIENCE);
    let mut last = std::io::Error::new(ErrorKind::NotFound, "the address resolves to nothing");
    let resolved: Vec<SocketAddr> = address.to_socket_addrs()?.collect();
    for addr in resolved {
        match TcpStream::connect_timeout(&addr, wait) {
            Ok(mut stream) => {
                // The other process answers once it has reached every
                // process before it, which may take until the deadline. No
                // second attempt after greeting: the other side may already
                // count this connection as ours.
                stream.set_read_timeout(Some(left))?;
                stream.write_all(&me.to_bytes())?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A failure of the connections themselves.
fn network(e: std::io::Error) -> Error {
    Error::Cluster(format!("connecting the processes: {e}"))
}

fn read_greeting(stream: &mut TcpStream) -> std::io::Result<Greeting> {
    let mut bytes = [0; GREETING_BYTES];
    stream.read_exact(&mut bytes)?;
    Greeting::from_bytes(&bytes)
        .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidData, "not a neardup greeting"))
}

/// Accepts the processes after this one until each has connected.
fn accept(
    listener: &TcpListener,
    streams: &mut [Option<TcpStream>],
    me: Greeting,
    clock: Clock,
    addresses: &[String],
) -> Result<()> {
    let index = me.process as usize;
    listener.set_nonblocking(true).map_err(network)?;
    while streams[index + 1..].iter().any(Option::is_none) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                stream.set_nonblocking(false).map_err(network)?;
                stream.set_read_timeout(Some(GREETING_PATIENCE)).map_err(network)?;
                // A connection that does not greet is not one of ours.
                let Ok(them) = read_greeting(&mut stream) else { continue };
                // Greet back first, so that the other side can also say
                // what differs.
                let _ = stream.write_all(&me.to_bytes());
                let peer = usize::try_from(them.process).unwrap_or(usize::MAX);
                me.check(&them, peer)?;
                if peer <= index || peer >= streams.len() {
                    return Err(Error::Cluster(format!(
                        "a process started as process {peer} connected to process {index}, which \
                         waits for processes after it only: give each process its own --process"
                    )));
                }
                if streams[peer].is_some() {
                    return Err(Error::Cluster(format!(
                        "two processes were started as process {peer}: give each its own --process"
                    )));
                }
                streams[peer] = Some(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if clock.runs_out_within(Duration::ZERO) {
                    let missing: Vec<String> = (index + 1..streams.len())
                        .filter(|&p| streams[p].is_none())
                        .map(|p| format!("process {p} ({})", addresses[p]))
                        .collect();
                    return Err(Error::Cluster(format!(
                        "process {index} waited {} s for {} to connect: start every process of \
                         the hostfile, or allow longer with --connect-timeout",
                        clock.patience.as_secs_f64(),
                        missing.join(", ")
                    )));
                }
                std::thread::sleep(RETRY / 5);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(network(e)),
        }
    }
    Ok(())
}

/// Starts this process's workers of the computation `config` describes,
/// each running `work`: after connecting the processes ([`connect`]) when
/// there are several.
pub fn start_workers<T, F>(
    config: &ClusterConfig,
    settings: u64,
    work: F,
) -> Result<WorkerGuards<T>>
where
    T: Send + 'static,
    F: Fn(&mut Worker) -> T + Send + Sync + 'static,
{
    let (builders, others): (Vec<AllocatorBuilder>, Box<dyn std::any::Any + Send>) = if config
        .processes
        > 1
    {
        let me = Greeting {
            process: config.process as u64,
            processes: config.processes as u64,
            workers: config.workers as u64,
            settings,
        };
        let sockets = connect(&config.addresses(), me, config.connect_timeout)?;
        let hooks = Hooks::default();
        let local = ProcessBuilder::new_typed_vector(
            config.workers,
            hooks.refill.clone(),
            hooks.spill.clone(),
        );
        let (builders, guard) = initialize_networking_from_sockets(
            local,
            sockets,
            config.process,
            config.workers,
            hooks,
        )
        .map_err(network)?;
        (builders.into_iter().map(AllocatorBuilder::Tcp).collect(), Box::new(guard))
    } else {
        let local = if config.workers > 1 {
            timely::CommunicationConfig::Process(config.workers)
        } else {
            timely::CommunicationConfig::Thread
        };
        local.try_build().map_err(|e| Error::Cluster(format!("cannot start the workers: {e}")))?
    };
    timely::execute::execute_from(builders, others, timely::WorkerConfig::default(), work)
        .map_err(|e| Error::Cluster(format!("cannot start the workers: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn greeting(process: u64) -> Greeting {
        Greeting { process, processes: 3, workers: 2, settings: 7 }
    }

    fn free_addresses(n: usize) -> Vec<String> {
        let listeners: Vec<TcpListener> =
            (0..n).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        listeners.iter().map(|l| l.local_addr().unwrap().to_string()).collect()
    }

    #[test]
    fn greetings_read_back() {
        let g = Greeting { process: 2, processes: 5, workers: 3, settings: u64::MAX - 4 };
        assert_eq!(Greeting::from_bytes(&g.to_bytes()), Some(g));
        let mut other = g.to_bytes();
        other[7] = 2;
        assert_eq!(Greeting::from_bytes(&other), None);
    }

    #[test]
    fn a_greeting_names_the_flag_that_differs() {
        let me = greeting(0);
        assert!(me.check(&greeting(1), 1).is_ok());
        for (them, flag) in [
            (Greeting { processes: 4, ..greeting(1) }, "--processes 4"),
            (Greeting { workers: 1, ..greeting(1) }, "--workers 1"),
            (Greeting { settings: 8, ..greeting(1) }, "other detection settings"),
            (greeting(2), "reached process 2 where the hostfile puts process 1"),
        ] {
            let message = me.check(&them, 1).unwrap_err().to_string();
            assert!(message.contains(flag), "{message}");
        }
    }

    /// Connects three processes in threads, started in reverse order, with
    /// a stray connection to process 0 first.
    #[test]
    fn processes_connect_in_any_order_past_a_stray_connection() {
        let addresses = free_addresses(3);
        let stray = {
            let first = addresses[0].clone();
            std::thread::spawn(move || {
                // Keeps trying until process 0 listens, then sends junk.
                for _ in 0..200 {
                    if let Ok(mut s) = TcpStream::connect(&first) {
                        let _ = s.write_all(&[0xff; GREETING_BYTES]);
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };
        let handles: Vec<_> = (0..3u64)
            .rev()
            .map(|p| {
                let addresses = addresses.clone();
                std::thread::spawn(move || {
                    connect(&addresses, greeting(p), Duration::from_secs(30))
                        .map(|streams| streams.iter().map(Option::is_some).collect::<Vec<bool>>())
                })
            })
            .collect();
        let connected: Vec<Vec<bool>> =
            handles.into_iter().map(|h| h.join().unwrap().unwrap()).collect();
        stray.join().unwrap();
        // In reverse order: process 2, 1, 0; each holds the other two.
        assert_eq!(connected[0], [true, true, false]);
        assert_eq!(connected[1], [true, false, true]);
        assert_eq!(connected[2], [false, true, true]);
    }

    #[test]
    fn a_process_that_never_starts_fails_the_others_in_time() {
        let addresses = free_addresses(2);
        let began = Instant::now();
        let message =
            connect(&addresses, greeting(0), Duration::from_millis(500)).unwrap_err().to_string();
        assert!(message.contains("waited 0.5 s for process 1"), "{message}");
        assert!(began.elapsed() < Duration::from_secs(5));
        let message =
            connect(&addresses, greeting(1), Duration::from_millis(500)).unwrap_err().to_string();
        assert!(message.contains("could not reach process 0"), "{message}");
    }

    #[test]
    fn a_process_with_other_flags_is_refused_on_both_sides() {
        let addresses = free_addresses(2);
        let other = {
            let addresses = addresses.clone();
            std::thread::spawn(move || {
                let them = Greeting { workers: 4, ..greeting(1) };
                connect(&addresses, them, Duration::from_secs(30)).unwrap_err().to_string()
            })
        };
        let mine = connect(&addresses, greeting(0), Duration::from_secs(30)).unwrap_err();
        assert!(mine.to_string().contains("process 1 was started with --workers 4"), "{mine}");
        let theirs = other.join().unwrap();
        assert!(theirs.contains("process 0 was started with --workers 2"), "{theirs}");
    }
}
