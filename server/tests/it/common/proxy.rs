//! A TCP proxy on loopback that stands between one server process and its database or its
//! bus, so a test can break that one link the way networks break: reset every connection
//! mid-write, cut the link (every connection reset, new ones refused) for a while, or stall
//! it (connections stay open, nothing gets through) — then restore it.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the link does now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Bytes go through.
    Pass,
    /// Every connection is reset, and new ones are reset as soon as they are accepted.
    Cut,
    /// Connections stay open and new ones are accepted, but nothing goes through either way.
    Stall,
}

#[derive(Clone, Copy, Debug)]
struct State {
    mode: Mode,
    /// Bumped by [`Proxy::reset`]: connections older than the bump are reset.
    resets: u64,
}

pub struct Proxy {
    pub addr: SocketAddr,
    state: watch::Sender<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy to `target` on a free loopback port.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (state, watching) = watch::channel(State {
            mode: Mode::Pass,
            resets: 0,
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(pipe(client, target, watching.clone()));
            }
        });
        Proxy { addr, state, task }
    }

    /// Resets every connection open now (as a connection reset by a middlebox mid-write);
    /// new connections go through.
    pub fn reset(&self) {
        self.state.send_modify(|s| s.resets += 1);
    }

    pub fn set(&self, mode: Mode) {
        self.state.send_modify(|s| {
            s.mode = mode;
            if mode == Mode::Cut {
                s.resets += 1;
            }
        });
    }

    /// `url` with its host and port replaced by this proxy's.
    pub fn in_url(&self, url: &str) -> String {
        let mut parsed = url::Url::parse(url).expect("a URL");
        parsed.set_port(Some(self.addr.port())).expect("a port");
        parsed.set_host(Some("127.0.0.1")).expect("a host");
        parsed.into()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The target address of a `scheme://user:pass@host:port/…` URL.
pub fn target_of(url: &str) -> SocketAddr {
    let parsed = url::Url::parse(url).expect("a URL");
    format!(
        "{}:{}",
        parsed.host_str().expect("a host"),
        parsed.port().expect("a port")
    )
    .parse()
    .expect("an address")
}

async fn pipe(mut client: TcpStream, target: SocketAddr, mut state: watch::Receiver<State>) {
    let born = state.borrow().resets;
    // A stalled link holds new connections unconnected; a cut one refuses them.
    loop {
        let mode = state.borrow_and_update().mode;
        match mode {
            Mode::Pass => break,
            Mode::Cut => return reset(client),
            Mode::Stall => {
                if state.changed().await.is_err() {
                    return;
                }
            }
        }
    }
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        return reset(client);
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (mut from_client, mut to_client) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let cut = {
        let (mut cr, mut cw) = client.split();
        let (mut ur, mut uw) = upstream.split();
        loop {
            let (mode, resets) = {
                let s = *state.borrow_and_update();
                (s.mode, s.resets)
            };
            if resets != born || mode == Mode::Cut {
                break true;
            }
            let passing = mode == Mode::Pass;
            tokio::select! {
                changed = state.changed() => if changed.is_err() { break true },
                read = cr.read(&mut from_client), if passing => match read {
                    Ok(0) | Err(_) => break false,
                    Ok(n) => if uw.write_all(&from_client[..n]).await.is_err() { break false },
                },
                read = ur.read(&mut to_client), if passing => match read {
                    Ok(0) | Err(_) => break false,
                    Ok(n) => if cw.write_all(&to_client[..n]).await.is_err() { break false },
                },
            }
        }
    };
    if cut {
        reset(client);
        reset(upstream);
    }
}

/// Closes with a reset (RST), not a goodbye (FIN).
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}
