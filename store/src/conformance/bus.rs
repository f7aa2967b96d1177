//! The command bus: round trip, offline chargers and timeouts.

use super::*;

pub async fn command_bus_round_trip(store: Arc<dyn Store>) {
    let gateway = node("gw-1");
    let charger = ChargerId::new("c1").unwrap();
    let mut incoming = store.subscribe_commands(&gateway).await.unwrap();
    store
        .register_connection(&charger, &gateway, Duration::from_secs(60))
        .await
        .unwrap();
    let responder = tokio::spawn(async move {
        let cmd = incoming.recv().await.unwrap();
        let seen = cmd.envelope.clone();
        cmd.reply(CommandReply::status("Accepted")).await;
        seen
    });
    let command = ChargerCommand::Reset {
        kind: chargegrid_core::command::ResetKind::Soft,
    };
    let reply = store
        .send_command(&charger, command.clone(), Duration::from_secs(10))
        .await
        .unwrap();
    assert!(reply.is_accepted(), "{reply:?}");
    let seen = responder.await.unwrap();
    assert_eq!(seen.charger, charger);
    assert_eq!(seen.command, command);
}

pub async fn command_bus_offline_and_timeout(store: Arc<dyn Store>) {
    let charger = ChargerId::new("c-off").unwrap();
    let command = ChargerCommand::TriggerMessage {
        message: "Heartbeat".into(),
        evse: None,
    };
    let reply = store
        .send_command(&charger, command.clone(), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(reply, CommandReply::Offline);

    // A node that receives but never answers: the sender gets a timeout, not a hang.
    let gateway = node("gw-silent");
    let mut incoming = store.subscribe_commands(&gateway).await.unwrap();
    store
        .register_connection(&charger, &gateway, Duration::from_secs(60))
        .await
        .unwrap();
    let hold = tokio::spawn(async move {
        let cmd = incoming.recv().await;
        // Keep the command (and its reply path) alive without answering.
        std::future::pending::<()>().await;
        drop(cmd);
    });
    let reply = store
        .send_command(&charger, command, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(reply, CommandReply::Timeout);
    hold.abort();
}
