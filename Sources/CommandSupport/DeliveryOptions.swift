import ArgumentParser

/// Where finished recordings go (an S3 API store) and who is told (webhooks). Secrets are best given through the
/// environment or a file, never the command line (which other users of the machine can read).
public struct DeliveryOptions: ParsableArguments {
    public init() {}

    @Option(name: .customLong("s3-bucket"), help: "Upload every finished recording to this bucket of an S3 API store.")
    public var bucket: String?

    @Option(name: .customLong("s3-endpoint"), help: "The store's URL (default: AWS, https://s3.REGION.amazonaws.com).")
    public var endpoint: String?

    @Option(name: .customLong("s3-region"), help: "The store's region (default: $AWS_REGION, else us-east-1).")
    public var region: String?

    @Option(name: .customLong("s3-prefix"), help: "Object keys begin with this, e.g. 'recordings/'.")
    public var prefix: String = ""

    @Flag(name: .customLong("s3-path-style"), help: "Address objects as ENDPOINT/BUCKET/KEY (most self-hosted stores), not BUCKET.HOST/KEY.")
    public var pathStyle = false

    @Option(name: .customLong("s3-credentials"), help: "A credentials file (AWS's INI form: aws_access_key_id, aws_secret_access_key, aws_session_token) read for the profile $AWS_PROFILE or 'default'. Otherwise $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY.")
    public var credentials: String?

    @Option(name: .customLong("s3-access-key"), help: "Access key id (better: $AWS_ACCESS_KEY_ID or --s3-credentials).")
    public var accessKey: String?

    @Option(name: .customLong("s3-secret-key"), help: "Secret access key (better: $AWS_SECRET_ACCESS_KEY or --s3-credentials; it never shows in the logs).")
    public var secretKey: String?

    @Option(name: .customLong("s3-sse"), help: "Server-side encryption: AES256 or aws:kms.")
    public var serverSideEncryption: String?

    @Option(name: .customLong("s3-kms-key-id"), help: "The KMS key for --s3-sse aws:kms.")
    public var kmsKeyID: String?

    @Option(name: .customLong("upload-part-size"), help: "Files above this go up in parts of this size: bytes, or with K or M (S3 wants at least 5M).")
    public var partSize: String = "8M"

    @Option(name: .customLong("upload-max-rate"), help: "Upload at most this many bytes per second (with K or M), leaving bandwidth for media.")
    public var maxRate: String?

    @Option(name: .customLong("upload-retry-for"), help: "Seconds to keep retrying an unreachable store before an upload fails.")
    public var retryFor: Double = 86_400

    @Flag(name: .customLong("upload-extras"), help: "Also upload each recording's events file, chat transcript and track files.")
    public var uploadExtras = false

    @Flag(name: .customLong("delete-after-upload"), help: "Remove a local file once its upload is verified (default: keep it).")
    public var deleteAfterUpload = false

    @Option(name: .customLong("upload-wait"), help: "At shutdown, wait this many seconds for uploads and webhooks to finish (what is left goes on at the next start).")
    public var uploadWait: Double = 60

    @Option(name: .customLong("retention-days"), help: "Remove local recordings this many days old (with a store: once uploaded). Default: keep them.")
    public var retentionDays: Double?

    @Option(name: .customLong("webhook"), help: "POST events (recording.started, recording.finished, upload.completed, participant.joined, …) to this URL. Repeatable.")
    public var webhooks: [String] = []

    @Option(name: .customLong("webhook-secret"), help: "Sign webhooks (Standard Webhooks: whsec_ and base64). Default: $MCU_WEBHOOK_SECRET.")
    public var webhookSecret: String?

    /// The options as arguments again, without the secrets (they go through the environment).
    public var arguments: [String] {
        var list: [String] = []
        if let bucket { list += ["--s3-bucket", bucket] }
        if let endpoint { list += ["--s3-endpoint", endpoint] }
        if let region { list += ["--s3-region", region] }
        if !prefix.isEmpty { list += ["--s3-prefix", prefix] }
        if pathStyle { list.append("--s3-path-style") }
        if let credentials { list += ["--s3-credentials", credentials] }
        if let serverSideEncryption { list += ["--s3-sse", serverSideEncryption] }
        if let kmsKeyID { list += ["--s3-kms-key-id", kmsKeyID] }
        list += ["--upload-part-size", partSize, "--upload-retry-for", String(retryFor), "--upload-wait", String(uploadWait)]
        if let maxRate { list += ["--upload-max-rate", maxRate] }
        if uploadExtras { list.append("--upload-extras") }
        if deleteAfterUpload { list.append("--delete-after-upload") }
        if let retentionDays { list += ["--retention-days", String(retentionDays)] }
        for url in webhooks { list += ["--webhook", url] }
        return list
    }

    /// The secrets given as flags, as the environment variables the server reads instead.
    public var secretEnvironment: [(String, String)] {
        var list: [(String, String)] = []
        if let accessKey { list.append(("AWS_ACCESS_KEY_ID", accessKey)) }
        if let secretKey { list.append(("AWS_SECRET_ACCESS_KEY", secretKey)) }
        if let webhookSecret { list.append(("MCU_WEBHOOK_SECRET", webhookSecret)) }
        return list
    }

    /// `8M`, `256K`, `1048576` → bytes; nil when not a positive size.
    public static func bytes(_ text: String) -> Int? {
        let upper = text.uppercased()
        let (digits, scale) = upper.hasSuffix("M") ? (upper.dropLast(), 1 << 20) : upper.hasSuffix("K") ? (upper.dropLast(), 1 << 10) : (Substring(upper), 1)
        guard let value = Double(digits), value > 0, value * Double(scale) < Double(1 << 40) else { return nil }
        return Int(value * Double(scale))
    }
}
