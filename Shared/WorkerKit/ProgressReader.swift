import ConveyorModels
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Reads what a running model writes to `$CONVEYOR_PROGRESS`, one JSON object per line:
/// `{"progress": 0.4, "message": "..."}`, `{"result": "rows", "value": 1200}`, `{"event": "..."}`
/// (see examples/README.md), within ``ProgressRules``. ``read()`` takes what was added since the
/// last look and answers the state when it changed.
final class ProgressReader: Sendable {
    let path: String
    private let state = Mutex<(offset: Int, partial: Data, progress: AttemptProgress, said: Bool)>((0, Data(), AttemptProgress(), false))

    init(path: String) {
        self.path = path
    }

    /// The state after what the file gained since the last look; nil when nothing changed.
    func read(now: Date = Date()) -> AttemptProgress? {
        let offset = state.withLock { $0.offset }
        guard offset < ProgressRules.maxFileBytes else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: min(65_536, ProgressRules.maxFileBytes - offset))
        let count = pread(fd, &buffer, buffer.count, off_t(offset))
        guard count > 0 else { return nil }
        return state.withLock { state in
            state.partial.append(contentsOf: buffer[0..<count])
            var lines = 0
            var consumed = 0
            var changed = false
            while lines < ProgressRules.maxLinesPerRead, let newline = state.partial[consumed...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = state.partial[consumed..<newline]
                consumed = newline + 1 - state.partial.startIndex
                lines += 1
                changed = Self.apply(Data(line), to: &state.progress, now: now) || changed
            }
            state.offset += consumed
            state.partial = Data(state.partial.dropFirst(consumed))
            if state.partial.count > ProgressRules.maxLineBytes {
                // A line without end that is already too long: skip it.
                state.offset += state.partial.count
                state.partial = Data()
                state.progress.ignoredLines += 1
                changed = true
            }
            // An unfinished line is read again next time, from its start.
            state.partial = Data()
            guard changed else { return nil }
            state.progress.updatedAt = now
            state.said = true
            return state.progress
        }
    }

    /// The last state, when the model said anything.
    var last: AttemptProgress? { state.withLock { $0.said ? $0.progress : nil } }

    /// Applies one line; true when it was used or counted.
    static func apply(_ line: Data, to progress: inout AttemptProgress, now: Date) -> Bool {
        let trimmed = line.filter { $0 != UInt8(ascii: "\r") }
        if trimmed.allSatisfy({ $0 == UInt8(ascii: " ") }) { return false }
        func ignore() -> Bool {
            progress.ignoredLines += 1
            return true
        }
        guard trimmed.count <= ProgressRules.maxLineBytes, case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(trimmed))
        else { return ignore() }
        func text(_ value: JSONValue?) -> String? {
            guard case .string(let string)? = value else { return nil }
            return String(string.prefix(ProgressRules.maxTextCharacters))
        }
        if let fraction = object["progress"] {
            guard case .number(let number) = fraction, number.isFinite, (0...1).contains(number) else { return ignore() }
            progress.fraction = number
            progress.message = text(object["message"]) ?? progress.message
            return true
        }
        if case .string(let name)? = object["result"] {
            guard TagUpdate.nameProblem(name) == nil, progress.results[name] != nil || progress.results.count < ProgressRules.maxResults,
                let value = Self.value(object["value"])
            else { return ignore() }
            progress.results[name] = value
            return true
        }
        if let message = text(object["event"]) {
            progress.events.append(ProgressEvent(at: now, message: message))
            if progress.events.count > ProgressRules.maxEvents { progress.events.removeFirst(progress.events.count - ProgressRules.maxEvents) }
            return true
        }
        return ignore()
    }

    /// A plain JSON scalar as a typed value.
    static func value(_ json: JSONValue?) -> Value? {
        switch json {
        case .bool(let flag): return .boolean(flag)
        case .number(let double):
            if double.rounded() == double, abs(double) < 9e15 { return .integer(Int64(double)) }
            return double.isFinite ? .float(double) : nil
        case .string(let string): return .string(String(string.prefix(ProgressRules.maxTextCharacters)))
        default: return nil
        }
    }
}
