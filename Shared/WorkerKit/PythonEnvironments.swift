import ConveyorModels
import Foundation
import ServiceKit
#if canImport(Glibc)
import Glibc
#endif

/// Python virtual environments for models that ship a `requirements.txt`: one per distinct set of
/// requirements and interpreter (content-addressed), built once by the importer from the configured
/// package index, reused by every later import and run on hosts that share the folder.
///
/// `<root>/<key>/` is a virtual environment; `<key>/.complete` says it was built to the end. A
/// build holds `<key>.lock` (`flock`), so two importers never build the same one at once; a folder
/// without the marker (a build that died) is built again.
public struct PythonEnvironments: Sendable {
    public let root: String
    /// The interpreter environments are made from (readable by every model user).
    public let python: String
    public let indexURL: String
    /// The requirement that gives `trac` models TRAC's runtime when their own requirements do not
    /// name `tracdap-runtime`.
    public let tracRuntime: String

    public init(root: String, python: String, indexURL: String, tracRuntime: String = Self.defaultTracRuntime) {
        self.root = root
        self.python = python
        self.indexURL = indexURL
        self.tracRuntime = tracRuntime
    }

    public static let defaultTracRuntime = "tracdap-runtime[pandas]==0.11.0"

    /// A `trac` model's requirements: its own, with TRAC's runtime added unless they name it.
    public func tracRequirements(_ own: String?) -> String {
        let own = own ?? ""
        let names = own.split(whereSeparator: \.isNewline).map { line in
            line.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }.lowercased().replacingOccurrences(of: "_", with: "-")
        }
        guard !names.contains("tracdap-runtime") else { return own }
        return (own.isEmpty || own.hasSuffix("\n") ? own : own + "\n") + tracRuntime + "\n"
    }

    /// The interpreter of the environment `key`.
    public func interpreter(_ key: String) -> String { root + "/" + key + "/bin/python" }

    /// The key of an environment: the requirements and the interpreter, hashed.
    public func key(for requirements: String) -> String {
        "py-" + ContentDigest.sha256(Data((python + "\n" + requirements).utf8)).prefix(24)
    }

    /// The environment for `requirements`, built if it is not there yet.
    /// - Throws: ``JobFailure`` with pip's last lines when the requirements cannot be installed.
    public func prepare(requirements: String, log: JobLogWriter) async throws -> String {
        let key = key(for: requirements)
        let folder = root + "/" + key
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: folder + "/.complete") {
            await log.line("reusing Python environment \(key)")
            return key
        }
        let lock = open(folder + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw JobFailure("cannot lock the Python environment \(key): \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        // Another importer may be building it: wait for it without holding a cooperative thread.
        while flock(lock, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { throw JobFailure("cannot lock the Python environment \(key): errno \(errno)") }
            try await Task.sleep(for: .milliseconds(200))
        }
        defer { flock(lock, LOCK_UN) }
        if FileManager.default.fileExists(atPath: folder + "/.complete") {
            await log.line("reusing Python environment \(key) (built meanwhile)")
            return key
        }
        try? FileManager.default.removeItem(atPath: folder)
        await log.line("building Python environment \(key) with \(python) from \(indexURL)")
        let requirementsFile = root + "/" + key + ".requirements.txt"
        try Data(requirements.utf8).write(to: URL(fileURLWithPath: requirementsFile))
        defer { try? FileManager.default.removeItem(atPath: requirementsFile) }
        try await step([python, "-m", "venv", folder], what: "create the virtual environment", log: log)
        do {
            try await step(
                // Wheels only: building a source package would run its setup code as the importer.
                [
                    folder + "/bin/python", "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--only-binary=:all:",
                    "--index-url", indexURL, "-r", requirementsFile,
                ],
                what: "install the requirements", log: log)
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        FileManager.default.createFile(atPath: folder + "/.complete", contents: Data())
        await log.line("built Python environment \(key)")
        return key
    }

    /// Runs one build step, its output to the log; a failure names the step with the output's end.
    private func step(_ arguments: [String], what: String, log: JobLogWriter) async throws {
        let tail = OutputTail()
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": root, "LANG": "C.UTF-8"]
        let termination = try await ChildProcess.run(arguments, workingDirectory: root, environment: environment, timeout: .seconds(900)) { output in
            await tail.append(output)
            await log.write(output)
        }
        guard termination == .exited(0) else {
            throw JobFailure("could not \(what) (\(termination)): \(await tail.lastLines(8))")
        }
    }

}

/// A command's output, its last 8-16 KiB kept (a short command's whole output; a long one's end, for
/// its error message).
public actor OutputTail {
    private var data = Data()
    public init() {}
    public func append(_ chunk: Data) {
        data.append(chunk)
        if data.count > 16_384 { data = data.suffix(8_192) }
    }
    public var text: String { String(decoding: data, as: UTF8.self) }
    public func lastLines(_ count: Int) -> String {
        text.split(separator: "\n").suffix(count).joined(separator: " | ")
    }
}

extension PythonEnvironments {
    /// `environments.root` (`.conveyor/environments`; share it like the internal storage),
    /// `environments.python` (`/usr/bin/python3`, which every model user can run),
    /// `environments.indexURL` (`https://pypi.org/simple`) and `environments.tracRuntime`
    /// (`tracdap-runtime[pandas]==0.11.0`).
    public init(settings: ConveyorSettings) {
        self.init(
            root: settings.absolute(settings.string("environments.root", default: ".conveyor/environments")),
            python: settings.string("environments.python", default: "/usr/bin/python3"),
            indexURL: settings.string("environments.indexURL", default: "https://pypi.org/simple"),
            tracRuntime: settings.string("environments.tracRuntime", default: Self.defaultTracRuntime))
    }
}
