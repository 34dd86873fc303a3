import Foundation
import Layout
import Metrics
import Rooms
import SDP

extension JanusSource {
    /// One subscription: a publisher's feed on its own subscriber handle, recorded as `participant`.
    struct Feed {
        var display: String
        var participant: String
        var handle: UInt64
        /// Bumped at every new session of the participant: a drop reported for an older one is stale.
        var generation: Int
    }

    /// What only the supervisor touches: the Janus session, the feeds, who is waiting to come back.
    struct Supervision {
        var joined: Joined
        var feeds: [UInt64: Feed] = [:]
        /// Participants by display name (a publisher that comes back after a restart is the same participant).
        var participants: [String: String] = [:]
        /// Participants whose publisher vanished with Janus, and until when they may come back.
        var orphans: [String: ContinuousClock.Instant] = [:]
        var generation = 0
        var lastKeepalive = ContinuousClock.now
    }

    func supervise(_ joined: Joined) async {
        var s = Supervision(joined: joined)
        for publisher in joined.publishers { await subscribe(publisher.feed, publisher.display, &s) }
        for await next in inputs {
            switch next {
            case let .events(session, events) where session == s.joined.session:
                for event in events { await handle(event, &s) }
            case let .lost(session, reason) where session == s.joined.session:
                await reconnect(reason, &s)
            case let .dropped(participant, generation, reason):
                // A publisher that leaves closes its subscribers' sessions just before Janus says so: wait a
                // second for that word before subscribing again.
                guard let entry = s.feeds.values.first(where: { $0.participant == participant }), entry.generation == generation else { continue }
                logger.notice("Janus subscription ended", metadata: ["room": "\(room)", "participant": "\(entry.display)", "reason": "\(reason)"])
                Task { [input] in
                    try? await Task.sleep(for: .seconds(1))
                    input.yield(.resubscribe(participant: participant, generation: generation))
                }
            case let .resubscribe(participant, generation):
                guard let (feed, entry) = s.feeds.first(where: { $0.value.participant == participant }), entry.generation == generation else { continue }
                logger.warning("Janus subscription dropped; subscribing again", metadata: ["room": "\(room)", "participant": "\(entry.display)"])
                await api.detach(session: s.joined.session, handle: entry.handle)
                s.feeds[feed] = nil
                await subscribe(feed, entry.display, &s)
            case .tick:
                if ContinuousClock.now - s.lastKeepalive >= .seconds(25) {
                    s.lastKeepalive = .now
                    do { try await api.keepalive(session: s.joined.session) } catch { await reconnect("\(error)", &s) }
                }
                for (participant, deadline) in s.orphans where deadline < .now {
                    s.orphans[participant] = nil
                    s.participants = s.participants.filter { $0.value != participant }
                    await directory.removePulled(id: participant, reason: "its publisher did not come back to Janus")
                }
            default:
                break    // events of a session we already left
            }
            publish(s)
        }
        // Stopped: leave Janus and the room.
        for entry in s.feeds.values { await directory.removePulled(id: entry.participant, reason: "the source was removed") }
        for participant in s.orphans.keys { await directory.removePulled(id: participant, reason: "the source was removed") }
        await api.destroy(session: s.joined.session)
    }

    private func publish(_ s: Supervision) {
        let names = s.feeds.values.map(\.display).sorted()
        status.withLock { $0.publishers = names }
    }

    private func handle(_ event: JSONValue, _ s: inout Supervision) async {
        guard let sender = JanusSource.sender(event) else { return }
        let data = event["plugindata"]?["data"]
        if sender == s.joined.listener, let data {
            for publisher in JanusSource.publishers(data) { await subscribe(publisher.feed, publisher.display, &s) }
            for key in ["unpublished", "leaving"] {
                if case let .number(n)? = data[key], let feed = UInt64(exactly: n) { await unsubscribe(feed, &s) }
            }
            if data["videoroom"] == .string("destroyed") {
                status.withLock { $0.lastError = "the Janus room was destroyed" }
                for feed in Array(s.feeds.keys) { await unsubscribe(feed, &s) }
            }
            return
        }
        guard let (feed, entry) = s.feeds.first(where: { $0.value.handle == sender }) else { return }
        if let jsep = event["jsep"], jsep["type"] == .string("offer"), let offer = JanusSource.string(jsep["sdp"]) {
            await answer(offer, feed: feed, entry, &s)
        } else if case let .number(code)? = data?["error_code"] {
            let reason = "Janus refused the subscription to \(entry.display): \(JanusSource.string(data?["error"]) ?? "error \(Int(code))")"
            status.withLock { $0.lastError = reason }
            logger.warning("\(reason)", metadata: ["room": "\(room)"])
        }
    }

    /// Attaches a subscriber handle for `feed` and asks to join it; Janus's offer comes as an event.
    private func subscribe(_ feed: UInt64, _ display: String, _ s: inout Supervision) async {
        guard s.feeds[feed] == nil else { return }
        let participant = s.participants[display] ?? RoomDirectory.newID()
        s.participants[display] = participant
        do {
            let handle = try await api.attach(session: s.joined.session)
            s.generation += 1
            s.feeds[feed] = Feed(display: display, participant: participant, handle: handle, generation: s.generation)
            var body: [(String, JSONValue)] = [("request", .string("join")), ("ptype", .string("subscriber")), ("room", janusRoom),
                                               ("streams", .array([.object([("feed", .number(Double(feed)))])]))]
            if let pin { body.append(("pin", .string(pin))) }
            try await api.message(session: s.joined.session, handle: handle, body)
        } catch {
            s.feeds[feed] = nil
            status.withLock { $0.lastError = "cannot subscribe to \(display): \(error)" }
            logger.warning("cannot subscribe", metadata: ["room": "\(room)", "participant": "\(display)", "error": "\(error)"])
        }
    }

    /// Janus's offer for a feed: our answer to it, then the participant's session on the shared port.
    private func answer(_ offer: String, feed: UInt64, _ entry: Feed, _ s: inout Supervision) async {
        do {
            let credentials = try directory.outgoingCredentials()
            let negotiation = try directory.answer(offer: offer, credentials: credentials)
            try await api.message(session: s.joined.session, handle: entry.handle, [("request", .string("start"))],
                                  jsep: .object([("type", .string("answer")), ("sdp", .string(negotiation.answer))]))
            let (participant, generation) = (entry.participant, entry.generation)
            try await directory.connect(room: room, name: entry.display, id: participant, negotiation: negotiation, credentials: credentials,
                                        controlling: false, onDrop: { [input] reason in input.yield(.dropped(participant: participant, generation: generation, reason)) })
            s.orphans[participant] = nil
            await directory.showStatus(id: participant, nil)
            logger.info("Janus publisher recorded", metadata: ["room": "\(room)", "participant": "\(entry.display)", "feed": "\(feed)"])
        } catch {
            status.withLock { $0.lastError = "cannot record \(entry.display): \(error)" }
            logger.warning("cannot record a Janus publisher", metadata: ["room": "\(room)", "participant": "\(entry.display)", "error": "\(error)"])
            await api.detach(session: s.joined.session, handle: entry.handle)
            s.feeds[feed] = nil
        }
    }

    private func unsubscribe(_ feed: UInt64, _ s: inout Supervision) async {
        guard let entry = s.feeds.removeValue(forKey: feed) else { return }
        await api.detach(session: s.joined.session, handle: entry.handle)
        s.participants = s.participants.filter { $0.value != entry.participant }
        await directory.removePulled(id: entry.participant, reason: "unpublished in Janus")
    }

    /// Janus is gone (restarted, our session lost): every tile says so, and we join again with backoff. The
    /// publishers' participants wait `comebackGrace` for their publishers to come back.
    private func reconnect(_ reason: String, _ s: inout Supervision) async {
        status.withLock { $0.state = "reconnecting"; $0.lastError = reason }
        Counter(label: "mcu_source_drops_total", dimensions: [("type", "janus")]).increment()
        logger.warning("Janus lost; joining again", metadata: ["room": "\(room)", "reason": "\(reason)"])
        for entry in s.feeds.values {
            s.orphans[entry.participant] = .now + JanusSource.comebackGrace
            await directory.showStatus(id: entry.participant, "reconnecting")
        }
        s.feeds.removeAll()
        var backoff = 1.0
        while !stopped {
            try? await Task.sleep(for: .seconds(backoff))
            guard !stopped else { return }
            do {
                s.joined = try await join()
                s.lastKeepalive = .now
                for (participant, _) in s.orphans { s.orphans[participant] = .now + JanusSource.comebackGrace }
                Counter(label: "mcu_source_reconnections_total", dimensions: [("type", "janus")]).increment()
                for publisher in s.joined.publishers { await subscribe(publisher.feed, publisher.display, &s) }
                return
            } catch {
                status.withLock { $0.lastError = "\(error)" }
                backoff = min(backoff * 2, 8)
            }
        }
    }
}
