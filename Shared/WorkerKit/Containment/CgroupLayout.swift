import Foundation

/// Where this process's control groups are, read from `/proc/self/mountinfo` and
/// `/proc/self/cgroup`: for cgroup v1, the folder of its group in each controller's hierarchy; for
/// cgroup v2, the folder of its group in the unified hierarchy.
public struct CgroupLayout: Sendable, Equatable {
    /// v1 controller (`memory`, `cpu`, `cpuacct`, `pids`, ...) → this process's group folder.
    public var v1: [String: String]
    /// The unified (v2) hierarchy's folder of this process's group, when it is mounted.
    public var v2: String?

    public init(v1: [String: String] = [:], v2: String? = nil) {
        self.v1 = v1
        self.v2 = v2
    }

    /// The controllers a worker uses in v1.
    public static let v1Controllers = ["memory", "cpu", "cpuacct", "pids"]

    /// Reads the layout of the running process.
    public static func current() -> CgroupLayout {
        func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        return parse(mountinfo: read("/proc/self/mountinfo"), cgroup: read("/proc/self/cgroup"))
    }

    /// - Parameters:
    ///   - mountinfo: `/proc/self/mountinfo` (`id parent major:minor root mountpoint options ... - fstype source superoptions`).
    ///   - cgroup: `/proc/self/cgroup` (`hierarchy:controllers:path`; `0::path` for v2).
    public static func parse(mountinfo: String, cgroup: String) -> CgroupLayout {
        var ownPaths: [String: String] = [:]  // controller (or "" for v2) → path in its hierarchy
        for line in cgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].isEmpty {
                ownPaths[""] = String(parts[2])
            } else {
                for controller in parts[1].split(separator: ",") { ownPaths[String(controller)] = String(parts[2]) }
            }
        }
        var layout = CgroupLayout()
        for line in mountinfo.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " ")
            let tail = halves[1].split(separator: " ")
            guard fields.count >= 5, tail.count >= 3 else { continue }
            let (root, mountPoint) = (String(fields[3]), unescape(String(fields[4])))
            func folder(for path: String) -> String? {
                // Inside a container the mount's root is the container's own group.
                guard path == root || path.hasPrefix(root == "/" ? "/" : root + "/") else { return nil }
                let relative = root == "/" ? path : String(path.dropFirst(root.count))
                return relative == "/" || relative.isEmpty ? mountPoint : mountPoint + relative
            }
            switch tail[0] {
            case "cgroup2":
                if let path = ownPaths[""] { layout.v2 = folder(for: path) }
            case "cgroup":
                for option in tail[2].split(separator: ",") {
                    let controller = String(option)
                    guard v1Controllers.contains(controller), layout.v1[controller] == nil, let path = ownPaths[controller] else { continue }
                    layout.v1[controller] = folder(for: path)
                }
            default: continue
            }
        }
        return layout
    }

    /// mountinfo escapes spaces, tabs, newlines and backslashes as octal (`\040`).
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var result = ""
        var scalars = Array(text.unicodeScalars)[...]
        while let first = scalars.first {
            if first == "\\", scalars.count >= 4, let code = UInt8(String(String.UnicodeScalarView(scalars.dropFirst().prefix(3))), radix: 8) {
                result.unicodeScalars.append(Unicode.Scalar(code))
                scalars = scalars.dropFirst(4)
            } else {
                result.unicodeScalars.append(first)
                scalars = scalars.dropFirst()
            }
        }
        return result
    }
}
