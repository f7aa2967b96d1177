//! Test harness shared by the end-to-end tests: real servers, never mocks.
//!
//! [`RedisServer`] starts a private `redis-server` on a free loopback port and kills it on
//! drop; [`RedisCluster`] does the same for a Redis Cluster of several primaries;
//! [`PostgresServer`] an own PostgreSQL (initdb into a temporary directory, a free port);
//! [`ChildProcess`] runs the real `chargegrid` binary the same way; [`free_port`] finds a port
//! to bind. The app itself is started in-process with `chargegrid::App` on port 0.

mod child;
mod ports;
mod postgres_server;
mod redis_server;

pub use child::ChildProcess;
pub use ports::free_port;
pub use postgres_server::PostgresServer;
pub use redis_server::{RedisCluster, RedisServer};
