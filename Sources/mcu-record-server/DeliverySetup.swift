import CommandSupport
import Delivery
import Foundation
import MediaCore
import Codecs
import Rooms

extension DeliveryOptions {
    /// The delivery the options ask for (every flag checked; secrets from the environment or the credentials file).
    func configuration(recordings: String) throws(MediaError) -> DeliveryConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var configuration = DeliveryConfiguration(stateFolder: recordings + "/.delivery", recordings: recordings)
        for url in webhooks where !(url.hasPrefix("http://") || url.hasPrefix("https://")) || URL(string: url)?.host == nil {
            throw MediaError(.invalidArgument, "--webhook takes an http:// or https:// URL, not '\(url)'")
        }
        configuration.webhooks = webhooks
        configuration.webhookSecret = webhookSecret ?? environment["MCU_WEBHOOK_SECRET"]
        if let secret = configuration.webhookSecret, WebhookSigner(secret: secret) == nil {
            throw MediaError(.invalidArgument, "the webhook secret must be base64 (optionally after whsec_), as Standard Webhooks secrets are")
        }
        guard let parts = DeliveryOptions.bytes(partSize), parts >= 64 << 10 else {
            throw MediaError(.invalidArgument, "--upload-part-size must be a size of at least 64K (S3 itself wants 5M), not '\(partSize)'")
        }
        guard retryFor >= 0, uploadWait >= 0 else { throw MediaError(.invalidArgument, "--upload-retry-for and --upload-wait are seconds, 0 or more") }
        configuration.uploads.retryFor = retryFor
        configuration.uploads.removeAfterUpload = deleteAfterUpload
        configuration.uploadExtras = uploadExtras
        if let retentionDays {
            guard retentionDays > 0 else { throw MediaError(.invalidArgument, "--retention-days must be above 0") }
            configuration.retentionDays = retentionDays
        }
        if let maxRate {
            guard let rate = DeliveryOptions.bytes(maxRate), rate >= 1024 else { throw MediaError(.invalidArgument, "--upload-max-rate must be at least 1K bytes per second") }
            configuration.uploads.maxRate = rate
        }
        guard let bucket else {
            if endpoint != nil || credentials != nil || accessKey != nil { throw MediaError(.invalidArgument, "the --s3-… options need --s3-bucket") }
            return configuration
        }
        if let endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) || URL(string: endpoint)?.host == nil {
            throw MediaError(.invalidArgument, "--s3-endpoint takes an http:// or https:// URL, not '\(endpoint)'")
        }
        if let sse = serverSideEncryption, sse != "AES256", sse != "aws:kms" { throw MediaError(.invalidArgument, "--s3-sse is AES256 or aws:kms, not '\(sse)'") }
        if kmsKeyID != nil, serverSideEncryption != "aws:kms" { throw MediaError(.invalidArgument, "--s3-kms-key-id needs --s3-sse aws:kms") }
        var s3 = S3Configuration(bucket: bucket, credentials: try loadCredentials(environment))
        s3.endpoint = endpoint
        s3.region = region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        s3.prefix = prefix
        s3.pathStyle = pathStyle
        s3.serverSideEncryption = serverSideEncryption
        s3.kmsKeyID = kmsKeyID
        s3.partSize = parts
        configuration.s3 = s3
        return configuration
    }

    /// Flags first, then the credentials file, then the environment.
    private func loadCredentials(_ environment: [String: String]) throws(MediaError) -> SigV4.Credentials {
        var access = accessKey ?? environment["AWS_ACCESS_KEY_ID"], secret = secretKey ?? environment["AWS_SECRET_ACCESS_KEY"]
        var token = environment["AWS_SESSION_TOKEN"]
        if let credentials {
            guard let text = try? String(contentsOfFile: credentials, encoding: .utf8) else {
                throw MediaError(.invalidArgument, "cannot read the credentials file", at: credentials)
            }
            let profile = environment["AWS_PROFILE"] ?? "default"
            var section = "", found: [String: String] = [:]
            for raw in text.split(whereSeparator: \.isNewline) {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
                if line.hasPrefix("[") { section = line.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")); continue }
                guard section == profile, let equals = line.firstIndex(of: "=") else { continue }
                found[line[..<equals].trimmingCharacters(in: .whitespaces)] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            }
            guard let key = found["aws_access_key_id"], let secretKey = found["aws_secret_access_key"] else {
                throw MediaError(.invalidArgument, "no aws_access_key_id and aws_secret_access_key for the profile '\(profile)'", at: credentials)
            }
            access = accessKey ?? key; secret = self.secretKey ?? secretKey; token = found["aws_session_token"] ?? token
        }
        guard let access, let secret, !access.isEmpty, !secret.isEmpty else {
            throw MediaError(.invalidArgument, "--s3-bucket needs credentials: $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, or --s3-credentials FILE")
        }
        return SigV4.Credentials(accessKey: access, secretKey: secret, sessionToken: token)
    }
}

extension RoomServer {
    /// Waits (bounded) for uploads and webhooks, and says where each file went or what is left for the next start.
    static func finishDelivery(_ delivery: DeliveryService, wait: Double) async {
        let done = await delivery.drain(timeout: wait)
        if let uploader = delivery.uploader {
            let finished = Date().timeIntervalSince1970 - wait - 5
            for record in await uploader.all where record.state != .completed || (record.finished ?? 0) > finished {
                switch record.state {
                case .completed: printLine("uploaded \(record.file) → \(uploader.client.configuration.location(of: record.key))")
                case .failed: printLine("upload failed: \(record.file): \(record.lastError ?? "unknown error") (the local file is kept)")
                case .pending, .uploading:
                    printLine("upload not finished: \(record.file) (\(record.parts.count) part(s) stored; it goes on at the next start)")
                }
            }
        }
        if !done, let outbox = delivery.outbox {
            let pending = await outbox.pending.values.reduce(0, +)
            if pending > 0 { printLine("\(pending) webhook(s) not delivered yet: they go out at the next start") }
        }
    }
}

extension RoomServer {
    /// `--audio-only`, `--audio-file`, `--dual-channel`.
    static func configureAudio(_ options: RoomOptions, _ configuration: inout ServerConfiguration) throws(MediaError) {
        func format(_ text: String, _ flag: String) throws(MediaError) -> AudioFormat {
            guard let format = AudioFormat(rawValue: text.lowercased()) else {
                throw MediaError(.invalidArgument, "\(flag) is one of \(AudioFormat.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
            }
            return format
        }
        configuration.audioOnly = try options.audioOnly.map { text throws(MediaError) in try format(text, "--audio-only") }
        configuration.audioFile = try options.audioFile.map { text throws(MediaError) in try format(text, "--audio-file") }
        if configuration.audioOnly != nil {
            guard configuration.audioFile == nil, !options.hls, options.rtmp.isEmpty, options.maxPartDuration == nil, options.maxPartSize == nil else {
                throw MediaError(.invalidArgument, "--audio-only records one audio file: it goes without --audio-file, --hls, --rtmp and parts")
            }
            // No video is shown: senders are asked for as little as they send.
            configuration.videoBitrate.ceiling = configuration.videoBitrate.floor
        }
        if let names = options.dualChannel {
            guard configuration.audioOnly != nil else { throw MediaError(.invalidArgument, "--dual-channel needs --audio-only") }
            let set = Set(names.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            guard !set.isEmpty else { throw MediaError(.invalidArgument, "--dual-channel takes participants' names, comma-separated") }
            configuration.dualChannelLeft = set
        }
    }
}
