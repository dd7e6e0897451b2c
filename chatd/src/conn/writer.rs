//! The writing half of a TCP connection's task. There are two writers of
//! a client's queued bytes, always under the queue's lock, so the bytes go
//! out in the order they were queued whoever writes them:
//!
//! * the engine task, once per batch
//!   ([`OutQueue::flush`](super::queue::OutQueue::flush)), writes straight
//!   to each socket it queued for, without waiting;
//! * the connection's own task ([`write_loop`]), only when the socket took
//!   less than was queued: it waits until the socket is writable and
//!   finishes the job. Until it has, the engine task only queues.
//!
//! Either takes everything queued into one `writev`: one `write()` per
//! delivery caps a 2-core machine near 300 thousand deliveries/s, while 64
//! messages per write reach millions.

use std::io;
use std::net::Shutdown;

use chatcore::ClientId;
use futures_lite::future::poll_fn;

use super::Socket;
use super::queue::{Flushed, WriterJob};

/// The writing half of a connection's task. Finishes the writes the engine
/// task left when the socket was full, and flushes what is queued when the
/// queue is closed; then ends the stream so the peer sees end of file after
/// the last line.
pub(super) async fn write_loop(id: ClientId, socket: &Socket) {
    loop {
        match poll_fn(|cx| socket.out.poll_job(cx)).await {
            WriterJob::Write => {
                if let Err(error) = finish_writes(socket).await {
                    // The reader sees the same failure and reports the disconnect.
                    tracing::debug!(client = %id, peer = %socket.peer, %error, "write failed");
                    socket.out.fail();
                    socket.cut();
                    return;
                }
            }
            WriterJob::Finish => {
                let _ = socket.stream.get_ref().shutdown(Shutdown::Write);
                return;
            }
            WriterJob::Stop => return,
        }
    }
}

/// Writes until the queue is empty, waiting whenever the socket is full.
async fn finish_writes(socket: &Socket) -> io::Result<()> {
    while socket.out.write_queued(socket.stream.get_ref())? == Flushed::Blocked {
        poll_fn(|cx| socket.stream.poll_writable(cx)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::task::{Context, Poll, Waker};
    use std::time::Instant;

    use bytes::Bytes;

    use super::*;
    use crate::conn::queue::tests::limit;
    use crate::conn::queue::{Exceeded, OutQueue};

    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        (server, client)
    }

    #[test]
    fn refuses_past_the_byte_limit_and_accepts_again_once_written() {
        let (server, _client) = pair();
        let queue = OutQueue::default();
        let (limit, now) = (limit(10, 10), Instant::now());
        assert_eq!(queue.push(Bytes::from_static(b"12345"), now, &limit), Ok(true));
        assert_eq!(
            queue.push(Bytes::from_static(b"67890"), now, &limit),
            Ok(false),
            "only the first push asks for a flush"
        );
        assert_eq!(queue.push(Bytes::from_static(b"x"), now, &limit), Err(Exceeded { queued: 10, overdue: 0 }));
        assert_eq!(queue.flush(&server).unwrap(), Flushed::All);
        assert_eq!(queue.queued(), 0);
        assert_eq!(queue.push(Bytes::from_static(b"x"), now, &limit), Ok(true));
    }

    #[test]
    fn a_full_socket_hands_the_rest_to_the_writer_and_order_is_kept() {
        let (server, client) = pair();
        socket2::SockRef::from(&server).set_send_buffer_size(16 * 1024).unwrap();
        socket2::SockRef::from(&client).set_recv_buffer_size(16 * 1024).unwrap();
        let queue = OutQueue::default();
        // Far more than the socket buffers hold, in buffers of varied sizes.
        let batch: Vec<Bytes> = (0..300u32).map(|i| Bytes::from(vec![(i % 251) as u8; 10_000 + i as usize])).collect();
        let expected: Vec<u8> = batch.iter().flat_map(|b| b.iter().copied()).collect();
        for data in batch {
            queue.push(data, Instant::now(), &limit(usize::MAX, usize::MAX)).unwrap();
        }
        assert_eq!(queue.flush(&server).unwrap(), Flushed::Blocked);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert_eq!(queue.poll_job(&mut cx), Poll::Ready(WriterJob::Write));
        let unlimited = limit(usize::MAX, usize::MAX);
        assert_eq!(
            queue.push(Bytes::from_static(b"tail"), Instant::now(), &unlimited),
            Ok(false),
            "the writer owns a full socket"
        );
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut client = client;
            client.read_to_end(&mut got).unwrap();
            got
        });
        while queue.write_queued(&server).unwrap() == Flushed::Blocked {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(queue.queued(), 0);
        queue.close();
        assert_eq!(queue.poll_job(&mut cx), Poll::Ready(WriterJob::Finish));
        server.shutdown(Shutdown::Write).unwrap();
        let mut expected = expected;
        expected.extend_from_slice(b"tail");
        assert_eq!(reader.join().unwrap(), expected);
    }
}
