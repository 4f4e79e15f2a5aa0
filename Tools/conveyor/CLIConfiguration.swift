import Foundation

/// What `conveyor login` saves: the gateway's address and a token, in
/// `$XDG_CONFIG_HOME/conveyor/config.json` (default `~/.config/conveyor/config.json`, mode 0600).
struct CLIConfiguration: Codable {
    var url: String?
    var token: String?

    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/conveyor/config.json"
    }

    static func load() -> CLIConfiguration {
        guard let data = FileManager.default.contents(atPath: path),
            let configuration = try? JSONDecoder().decode(CLIConfiguration.self, from: data)
        else { return CLIConfiguration() }
        return configuration
    }

    func save() throws {
        let url = URL(fileURLWithPath: Self.path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        FileManager.default.createFile(atPath: Self.path, contents: nil, attributes: [.posixPermissions: 0o600])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: Self.path)
        try encoder.encode(self).write(to: url)
    }
}
