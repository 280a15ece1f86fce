//! An in-memory client ↔ server pair over the public sans-IO API, for integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use puredtls::{ClientConfig, ClientSession, Endpoint, EndpointEvent, ServerConfig, Status};

pub const PEER: &str = "127.0.0.1:40000";

pub fn peer() -> SocketAddr {
    PEER.parse().unwrap()
}

/// A client and a server `Endpoint`, with datagrams passed by hand.
pub struct Pair {
    pub client: ClientSession,
    pub server: Endpoint,
    pub now: Instant,
    /// Every endpoint event seen so far.
    pub server_events: Vec<EndpointEvent>,
    /// Datagrams in flight.
    pub to_server: Vec<Vec<u8>>,
    pub to_client: Vec<Vec<u8>>,
}

impl Pair {
    pub fn new(server: ServerConfig, client: ClientConfig) -> Self {
        let now = Instant::now();
        let mut client = ClientSession::new(Arc::new(client), now).unwrap();
        let to_server = client
            .poll_output()
            .transmits()
            .map(<[u8]>::to_vec)
            .collect();
        Self {
            client,
            server: Endpoint::new(Arc::new(server)).unwrap(),
            now,
            server_events: Vec::new(),
            to_server,
            to_client: Vec::new(),
        }
    }

    /// Delivers everything in flight, both ways, until nothing is left or `rounds` pass.
    pub fn run(&mut self, rounds: usize) {
        for _ in 0..rounds {
            if self.to_server.is_empty() && self.to_client.is_empty() {
                return;
            }
            for d in std::mem::take(&mut self.to_server) {
                let out = self.server.handle_datagram(self.now, peer(), &d);
                self.server_events.extend(out.events().iter().cloned());
                for t in out.transmits() {
                    self.to_client.push(out.datagram(t).to_vec());
                }
            }
            for d in std::mem::take(&mut self.to_client) {
                let out = self.client.handle_datagram(self.now, &d);
                self.to_server.extend(out.transmits().map(<[u8]>::to_vec));
            }
        }
    }

    pub fn server_status(&self) -> Option<Status> {
        self.server.session(&peer()).map(|s| s.status().clone())
    }

    /// The server session's failure, from the events (the endpoint forgets failed sessions).
    pub fn server_failure(&self) -> Option<puredtls::Error> {
        self.server_events.iter().find_map(|e| match e {
            EndpointEvent::Session(_, puredtls::Event::Failed(err)) => Some(err.clone()),
            _ => None,
        })
    }
}
