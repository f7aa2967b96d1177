//! The PROXY protocol header (HAProxy's, version 1 text or version 2 binary) that a trusted
//! load balancer sends before a charger's TLS or HTTP bytes, naming the charger's own address.
//! Read exactly (not a byte of what follows) and parsed with the `ppp` crate.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The version 2 signature.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// The longest version 1 header (with its CRLF).
const V1_MAX: usize = 107;

/// Why a connection from a trusted proxy was dropped.
#[derive(Debug, thiserror::Error)]
pub enum ProxyHeaderError {
    /// The socket failed or closed first.
    #[error("reading the PROXY header: {0}")]
    Io(#[from] std::io::Error),
    /// No PROXY header where one must be.
    #[error("no PROXY protocol header from a trusted proxy")]
    Missing,
    /// A header that does not parse.
    #[error("bad PROXY protocol header: {0}")]
    Invalid(String),
}

/// Reads the header from `stream`: the client's address, or `None` when the proxy speaks for
/// itself (a LOCAL command or UNKNOWN addresses, e.g. its health checks).
pub async fn read<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    // Six bytes tell the versions apart without reading past the shortest header
    // ("PROXY UNKNOWN\r\n" is 15 bytes).
    let mut head = [0u8; 16];
    stream.read_exact(&mut head[..6]).await?;
    if head[..6] == V2_SIGNATURE[..6] {
        stream.read_exact(&mut head[6..]).await?;
        if &head[..12] != V2_SIGNATURE {
            return Err(ProxyHeaderError::Missing);
        }
        let len = usize::from(u16::from_be_bytes([head[14], head[15]]));
        let mut whole = head.to_vec();
        whole.resize(16 + len, 0);
        stream.read_exact(&mut whole[16..]).await?;
        let header = ppp::v2::Header::try_from(whole.as_slice())
            .map_err(|e| ProxyHeaderError::Invalid(e.to_string()))?;
        return Ok(match header.addresses {
            ppp::v2::Addresses::IPv4(a) => {
                Some(SocketAddr::from((a.source_address, a.source_port)))
            }
            ppp::v2::Addresses::IPv6(a) => {
                Some(SocketAddr::from((a.source_address, a.source_port)))
            }
            _ => None,
        });
    }
    if &head[..6] != b"PROXY " {
        return Err(ProxyHeaderError::Missing);
    }
    let mut line = head[..6].to_vec();
    while !line.ends_with(b"\r\n") {
        if line.len() >= V1_MAX {
            return Err(ProxyHeaderError::Invalid(
                "a version 1 header without its end".into(),
            ));
        }
        line.push(stream.read_u8().await?);
    }
    let text =
        std::str::from_utf8(&line).map_err(|_| ProxyHeaderError::Invalid("not text".into()))?;
    let header =
        ppp::v1::Header::try_from(text).map_err(|e| ProxyHeaderError::Invalid(e.to_string()))?;
    Ok(match header.addresses {
        ppp::v1::Addresses::Tcp4(a) => Some(SocketAddr::from((a.source_address, a.source_port))),
        ppp::v1::Addresses::Tcp6(a) => Some(SocketAddr::from((a.source_address, a.source_port))),
        ppp::v1::Addresses::Unknown => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn both_versions_name_the_client_and_nothing_after_the_header_is_read() {
        let client: SocketAddr = "203.0.113.9:51234".parse().unwrap();
        let server: SocketAddr = "10.0.0.2:9000".parse().unwrap();
        let v2 = ppp::v2::Builder::with_addresses(
            ppp::v2::Version::Two | ppp::v2::Command::Proxy,
            ppp::v2::Protocol::Stream,
            (client, server),
        )
        .build()
        .unwrap();
        let mut bytes = v2.clone();
        bytes.extend_from_slice(b"GET /ocpp/CP1 HTTP/1.1\r\n");
        let mut reader = bytes.as_slice();
        assert_eq!(read(&mut reader).await.unwrap(), Some(client));
        assert_eq!(reader, b"GET /ocpp/CP1 HTTP/1.1\r\n");

        let v1 = "PROXY TCP4 203.0.113.9 10.0.0.2 51234 9000\r\nGET /".to_string();
        let mut reader = v1.as_bytes();
        assert_eq!(read(&mut reader).await.unwrap(), Some(client));
        assert_eq!(reader, b"GET /");

        let mut reader: &[u8] = b"PROXY UNKNOWN\r\nGET / HTTP/1.1";
        assert_eq!(read(&mut reader).await.unwrap(), None);
        assert_eq!(reader, b"GET / HTTP/1.1");
        let mut reader: &[u8] = b"GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\n";
        assert!(matches!(
            read(&mut reader).await,
            Err(ProxyHeaderError::Missing)
        ));
        let mut reader: &[u8] = b"PROXY TCP4 nonsense and more nonsense that never ends...................................................";
        assert!(read(&mut reader).await.is_err());
    }
}
