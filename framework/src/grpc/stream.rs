//! What the streaming RPCs (`InvokeAction`, `ListResource`) share: the
//! provider's code runs on a task of its own and sends what it has through a
//! channel; the stream forwards it to Terraform, and "Stop is final": once
//! `StopProvider` has been received, nothing more the provider sends is
//! forwarded, and the stream ends with its completion alone. Terraform 1.15
//! stops reading an action's events when it is stopped, and panics ("range
//! function continued iteration after function for loop body returned
//! false") on an event that comes after it has; so does any client that
//! breaks out of its loop. Enforced here, for every stream, so that no
//! provider code can break it.

use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;

/// What a stream forwards next.
#[derive(Debug, PartialEq)]
pub(super) enum Next<T> {
    /// Something the provider sent before `StopProvider`.
    Item(T),
    /// `StopProvider` has been received: forward nothing more, complete.
    Stopped,
    /// The provider's task is done and everything it sent was forwarded.
    Done,
}

/// The next item of `rx` to forward, unless `stop` has been cancelled: stop
/// is checked first, so an item that was waiting in the channel when stop
/// came is not forwarded either.
pub(super) async fn next<T>(rx: &mut Receiver<T>, stop: &CancellationToken) -> Next<T> {
    if stop.is_cancelled() {
        return Next::Stopped;
    }
    tokio::select! {
        biased;
        _ = stop.cancelled() => Next::Stopped,
        item = rx.recv() => item.map_or(Next::Done, Next::Item),
    }
}

/// Reads what the provider still sends after stop until its task is done,
/// forwarding none of it; each message goes to the log instead, so that
/// nothing it said is lost.
pub(super) async fn drain_after_stop(rpc: &'static str, mut rx: Receiver<String>) {
    while let Some(message) = rx.recv().await {
        tracing::info!(rpc, %message, "not sent to Terraform: StopProvider was received");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn items_flow_until_stop_and_none_after() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let stop = CancellationToken::new();
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        assert_eq!(next(&mut rx, &stop).await, Next::Item(1));
        stop.cancel();
        // 2 was waiting when stop came: it is not forwarded.
        assert_eq!(next(&mut rx, &stop).await, Next::Stopped);
        assert_eq!(next(&mut rx, &stop).await, Next::Stopped);
    }

    #[tokio::test]
    async fn a_stream_whose_task_ends_is_done() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let stop = CancellationToken::new();
        tx.send("a").await.unwrap();
        drop(tx);
        assert_eq!(next(&mut rx, &stop).await, Next::Item("a"));
        assert_eq!(next(&mut rx, &stop).await, Next::Done);
    }

    #[tokio::test]
    async fn stop_ends_a_wait_for_the_next_item() {
        let (_tx, mut rx) = tokio::sync::mpsc::channel::<u8>(8);
        let stop = CancellationToken::new();
        let cancel = async {
            // The wait below is polled first, and waits.
            tokio::task::yield_now().await;
            stop.cancel();
        };
        let (got, ()) = tokio::join!(next(&mut rx, &stop), cancel);
        assert_eq!(got, Next::Stopped);
    }
}
