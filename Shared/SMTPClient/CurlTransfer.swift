import CCurl
import Synchronization

/// One SMTP transaction on its own libcurl easy handle.
///
/// `perform` blocks and must run on a dedicated queue, never on Swift's cooperative pool. The payload offset is
/// only touched by that queue (inside libcurl's read callback); `cancel()` may be called from any thread.
final class CurlTransfer: @unchecked Sendable {
    /// What libcurl reported.
    struct Outcome: Sendable {
        /// The `CURLcode` of `curl_easy_perform` (0 is success).
        var curlCode: Int
        /// The last SMTP reply code (`CURLINFO_RESPONSE_CODE`), 0 if none was received.
        var responseCode: Int
        /// libcurl's error buffer, or `curl_easy_strerror` when the buffer is empty.
        var errorText: String
        /// Whether the transfer was aborted because `cancel()` was called.
        var cancelled: Bool
    }

    /// Everything libcurl needs besides the payload.
    struct Request: Sendable {
        var url: String
        var sender: String
        var recipients: [String]
        var username: String?
        var password: String?
        var requireTLS: Bool
        var timeoutSeconds: Int
        var connectTimeoutSeconds: Int
    }

    /// `curl_global_init` result, computed once (Swift initialises static lets exactly once, thread-safely).
    private static let globalInitCode: Int = Int(curl_global_init(Int(CURL_GLOBAL_DEFAULT)).rawValue)

    private let payload: [UInt8]
    private var offset = 0
    private let cancelled = Atomic<Bool>(false)

    init(payload: [UInt8]) {
        self.payload = payload
    }

    /// Asks a running (or future) `perform` to abort at the next progress callback.
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    /// Runs the transaction. Blocking.
    func perform(_ request: Request) -> Outcome {
        if Self.globalInitCode != Int(CURLE_OK.rawValue) {
            return failure(Self.globalInitCode, "curl_global_init failed")
        }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        defer { errorBuffer.deallocate() }  // Runs after curl_easy_cleanup below.

        guard let handle = curl_easy_init() else {
            return failure(Int(CURLE_FAILED_INIT.rawValue), "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(handle) }

        var recipientList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(recipientList) }  // Runs before curl_easy_cleanup; curl is done with it by then.
        for recipient in request.recipients {
            guard let extended = curl_slist_append(recipientList, "<\(recipient)>") else {
                return failure(Int(CURLE_OUT_OF_MEMORY.rawValue), "curl_slist_append failed")
            }
            recipientList = extended
        }

        let context = Unmanaged.passUnretained(self).toOpaque()
        let readCallback: conveyor_curl_data_callback = { buffer, size, count, userdata in
            guard let buffer, let userdata else { return Int(CURL_READFUNC_ABORT) }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            return transfer.read(into: buffer, capacity: size * count)
        }
        let progressCallback: conveyor_curl_xferinfo_callback = { userdata, _, _, _, _ in
            guard let userdata else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            return transfer.cancelled.load(ordering: .relaxed) ? 1 : 0
        }

        let connectTimeout = max(1, min(request.connectTimeoutSeconds, request.timeoutSeconds))
        var results: [(String, CURLcode)] = [
            ("URL", conveyor_curl_setopt_string(handle, CURLOPT_URL, request.url)),
            ("PROTOCOLS_STR", conveyor_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps")),
            ("NOSIGNAL", conveyor_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)),
            ("ERRORBUFFER", conveyor_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)),
            ("MAIL_FROM", conveyor_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(request.sender)>")),
            ("MAIL_RCPT", conveyor_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipientList)),
            ("UPLOAD", conveyor_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)),
            ("READFUNCTION", conveyor_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION, readCallback)),
            ("READDATA", conveyor_curl_setopt_pointer(handle, CURLOPT_READDATA, context)),
            ("NOPROGRESS", conveyor_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)),
            (
                "XFERINFOFUNCTION",
                conveyor_curl_setopt_xferinfo_callback(handle, CURLOPT_XFERINFOFUNCTION, progressCallback)
            ),
            ("XFERINFODATA", conveyor_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)),
            (
                "USE_SSL",
                conveyor_curl_setopt_long(
                    handle, CURLOPT_USE_SSL,
                    Int(request.requireTLS ? CURLUSESSL_ALL.rawValue : CURLUSESSL_NONE.rawValue))
            ),
            ("CONNECTTIMEOUT", conveyor_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, connectTimeout)),
            ("TIMEOUT", conveyor_curl_setopt_long(handle, CURLOPT_TIMEOUT, max(1, request.timeoutSeconds))),
        ]
        if let username = request.username {
            results.append(("USERNAME", conveyor_curl_setopt_string(handle, CURLOPT_USERNAME, username)))
        }
        if let password = request.password {
            results.append(("PASSWORD", conveyor_curl_setopt_string(handle, CURLOPT_PASSWORD, password)))
        }
        for (name, code) in results where code != CURLE_OK {
            return failure(Int(code.rawValue), "curl_easy_setopt(CURLOPT_\(name)) failed: \(Self.describe(code))")
        }

        let code = curl_easy_perform(handle)
        var responseCode = 0
        _ = conveyor_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &responseCode)
        let bufferText = String(cString: errorBuffer)
        return Outcome(
            curlCode: Int(code.rawValue), responseCode: responseCode,
            errorText: bufferText.isEmpty ? Self.describe(code) : bufferText,
            cancelled: code == CURLE_ABORTED_BY_CALLBACK && cancelled.load(ordering: .relaxed))
    }

    /// CURLOPT_READFUNCTION body: copies the next chunk of the payload.
    private func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        let count = min(capacity, payload.count - offset)
        guard count > 0 else { return 0 }
        payload.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }

    private func failure(_ code: Int, _ text: String) -> Outcome {
        Outcome(curlCode: code, responseCode: 0, errorText: text, cancelled: false)
    }

    private static func describe(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }
}
