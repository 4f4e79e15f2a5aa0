import ConveyorModels
import Foundation
import Testing

@testable import WorkerKit

/// Containment without a kernel: where the control groups are, what limits an attempt gets, and
/// what an attempt's group writes (against a folder standing in for the cgroup file system).
@Suite("Containment rules (pure)")
struct ContainmentRulesTests {
    @Test("v1 hierarchies and the unified one are found from mountinfo and /proc/self/cgroup, also inside a container's mount root")
    func layout() {
        let mountinfo = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
            35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
            40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
            41 31 0:38 / /sys/fs/cgroup/uni\\040fied rw,relatime - cgroup2 cgroup2 rw
            """
        let cgroup = """
            9:name=systemd:/
            8:pids:/runners/a
            4:memory:/docker/abc/inner
            2:cpu,cpuacct:/
            0::/svc/runner.service
            """
        let layout = CgroupLayout.parse(mountinfo: mountinfo, cgroup: cgroup)
        #expect(layout.v1 == [
            "cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
            "memory": "/sys/fs/cgroup/memory/inner", "pids": "/sys/fs/cgroup/pids/runners/a",
        ])
        #expect(layout.v2 == "/sys/fs/cgroup/uni fied/svc/runner.service")
        #expect(CgroupLayout.parse(mountinfo: "", cgroup: cgroup) == CgroupLayout())
    }

    @Test("an attempt gets what its job asks for, else its type's default, and always a run-time limit")
    func limits() {
        let rules = AttemptLimitRules(
            fallback: JobResourceDefaults(cpus: 1, memoryMB: 256), byType: [.runFlow: JobResourceDefaults(cpus: 2, memoryMB: 1024)],
            maxProcesses: 300, maxRunSeconds: 3600, diskBytes: 1 << 30)
        #expect(rules.limits(for: .runModel, resources: nil) == AttemptLimits(memoryBytes: 256 << 20, cpus: 1, maxProcesses: 300, maxRunSeconds: 3600, diskBytes: 1 << 30))
        #expect(rules.limits(for: .runFlow, resources: ResourceRequirements(maxRunSeconds: 5)) == AttemptLimits(memoryBytes: 1024 << 20, cpus: 2, maxProcesses: 300, maxRunSeconds: 5, diskBytes: 1 << 30))
        #expect(rules.limits(for: .runModel, resources: ResourceRequirements(cpus: 4, memoryMB: 100)).memoryBytes == 100 << 20)
    }

    @Test("rlimits: no core files and the file cap always; without a control group also address space, CPU time, and processes of a separate user")
    func rlimits() {
        let limits = AttemptLimits(memoryBytes: 256 << 20, cpus: 2, maxProcesses: 64, maxRunSeconds: 10, diskBytes: 4096)
        let contained = limits.rlimits(withCgroup: true, separateUser: true)
        #expect(contained.map(\.value) == [0, 4096])
        let floor = limits.rlimits(withCgroup: false, separateUser: false)
        #expect(floor.map(\.value) == [0, 4096, (512 << 20) + (512 << 20), 80])
        #expect(limits.rlimits(withCgroup: false, separateUser: true).last?.value == 64)
    }

    /// A folder standing in for a control group: the files the kernel would offer.
    func fakeGroup(_ files: [String]) throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-\(UUID().uuidString)").path
        let folder = base + "/job"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in files { FileManager.default.createFile(atPath: folder + "/" + file, contents: Data()) }
        return base
    }

    func read(_ base: String, _ file: String) -> String { (try? String(contentsOfFile: base + "/job/" + file, encoding: .utf8)) ?? "" }

    @Test("a v2 attempt group writes memory.max without swap, cpu.max and pids.max, reads OOM kills from memory.events")
    func v2Group() throws {
        let base = try fakeGroup(["memory.max", "memory.swap.max", "cpu.max", "pids.max", "cgroup.procs", "memory.events", "memory.peak", "cpu.stat"])
        defer { try? FileManager.default.removeItem(atPath: base) }
        let group = try AttemptCgroup(
            version: .v2, bases: ["": base], name: "job", limits: AttemptLimits(memoryBytes: 1 << 20, cpus: 2, maxProcesses: 50, maxRunSeconds: 9))
        #expect(read(base, "memory.max") == "1048576" && read(base, "memory.swap.max") == "0")
        #expect(read(base, "cpu.max") == "200000 100000" && read(base, "pids.max") == "50")
        #expect(group.procsFiles == [base + "/job/cgroup.procs"])
        try Data("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n".utf8).write(to: URL(fileURLWithPath: base + "/job/memory.events"))
        try Data("7340032\n".utf8).write(to: URL(fileURLWithPath: base + "/job/memory.peak"))
        try Data("usage_usec 3000000\nuser_usec 2500000\nsystem_usec 500000\n".utf8).write(to: URL(fileURLWithPath: base + "/job/cpu.stat"))
        #expect(group.outOfMemoryKills == 1)
        let usage = group.usage()
        #expect(usage.peakBytes == 7 << 20 && usage.userSeconds == 2.5 && usage.systemSeconds == 0.5)
    }

    @Test("a v1 attempt group writes the memory (and swap) limit, the CFS quota and pids.max in each hierarchy")
    func v1Group() throws {
        let memory = try fakeGroup(["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.max_usage_in_bytes", "cgroup.procs", "memory.oom_control"])
        let cpu = try fakeGroup(["cpu.cfs_period_us", "cpu.cfs_quota_us", "cgroup.procs"])
        let pids = try fakeGroup(["pids.max", "cgroup.procs"])
        defer { for base in [memory, cpu, pids] { try? FileManager.default.removeItem(atPath: base) } }
        let group = try AttemptCgroup(
            version: .v1, bases: ["memory": memory, "cpu": cpu, "pids": pids], name: "job",
            limits: AttemptLimits(memoryBytes: 2 << 20, cpus: 3, maxProcesses: 40, maxRunSeconds: 9))
        #expect(read(memory, "memory.limit_in_bytes") == "2097152" && read(memory, "memory.memsw.limit_in_bytes") == "2097152")
        #expect(read(cpu, "cpu.cfs_period_us") == "100000" && read(cpu, "cpu.cfs_quota_us") == "300000" && read(pids, "pids.max") == "40")
        #expect(group.procsFiles.first == memory + "/job/tasks" && group.procsFiles.count == 3, "the memory hierarchy first, joined by its tasks file")
        try Data("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n".utf8).write(to: URL(fileURLWithPath: memory + "/job/memory.oom_control"))
        #expect(group.outOfMemoryKills == 2)
    }

    @Test("usage samples: the folder's disk each time; at most 720, a long run keeps every other sample, then every fourth")
    func samples() throws {
        let folder = try fakeGroup([])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(count: 64 * 1024).write(to: URL(fileURLWithPath: folder + "/job/data.bin"))
        let sampler = UsageSampler(cgroup: nil, folder: folder)
        #expect(sampler.sample() >= 64 * 1024)
        for _ in 1..<720 { sampler.sample() }
        #expect(sampler.samples.count == 360, "halved when full")
        for _ in 0..<718 { sampler.sample() }
        #expect(sampler.samples.count == 360 + 359, "then every other sample is taken")
        sampler.sample()
        sampler.sample()
        #expect(sampler.samples.count == 360, "halved again")
        #expect(sampler.peakDiskBytes >= 64 * 1024)
    }

    @Test("a Python environment's key is the same for the same requirements and interpreter, and differs otherwise")
    func environmentKeys() {
        let environments = PythonEnvironments(root: "/envs", python: "/usr/bin/python3", indexURL: "https://pypi.org/simple")
        let key = environments.key(for: "six==1.16.0\n")
        #expect(key.hasPrefix("py-") && key.count == 27 && key == environments.key(for: "six==1.16.0\n"))
        #expect(key != environments.key(for: "six==1.15.0\n"))
        #expect(key != PythonEnvironments(root: "/envs", python: "/usr/bin/python3.12", indexURL: "").key(for: "six==1.16.0\n"))
        #expect(environments.interpreter(key) == "/envs/\(key)/bin/python")
    }

    @Test("progress lines: fraction and message, typed results, the latest events; bad lines counted; a partial line waits for its end")
    func progressLines() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("progress-\(UUID().uuidString).ndjson").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        FileManager.default.createFile(atPath: file, contents: Data())
        let reader = ProgressReader(path: file)
        #expect(reader.read() == nil && reader.last == nil, "nothing said yet")
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.write(Data(#"{"progress": 0.5, "message": "half"}\#n{"result": "rows", "value": 12}\#nnot json\#n{"result": "ok", "value": true}\#n{"progress": 2}\#n{"event": "saved"}\#n{"result": "x", "va"#.utf8))
        let first = try #require(reader.read())
        #expect(first.fraction == 0.5 && first.message == "half" && first.results == ["rows": .integer(12), "ok": .boolean(true)])
        #expect(first.events.map(\.message) == ["saved"] && first.ignoredLines == 2, "a line that is not JSON and a fraction past 1")
        handle.write(Data(#"lue": 0.25}\#n"#.utf8))
        #expect(try #require(reader.read()).results["x"] == .float(0.25), "the partial line, completed")
        for index in 0..<30 { handle.write(Data(#"{"event": "e\#(index)"}\#n"#.utf8)) }
        let events = try #require(reader.read()).events.map(\.message)
        #expect(events.count == 20 && events.last == "e29", "only the latest 20 events")
        handle.closeFile()
    }

    @Test("model user ids: a range, each run takes one no other holds, the one given back longest ago first; bad ranges are refused")
    func modelUsers() throws {
        let users = try #require(try ModelUsers.parse("61000-61002"))
        let (first, second) = (try users.take(), try users.take())
        #expect(first == 61000 && second == 61001)
        users.giveBack(first)
        #expect(try users.take() == 61002, "not the id just given back")
        #expect(try users.take() == 61000)
        #expect(throws: JobFailure.self) { try users.take() }
        #expect(try ModelUsers.parse("") == nil)
        #expect(throws: JobFailure.self) { try ModelUsers.parse("0-10") }
        #expect(throws: JobFailure.self) { try ModelUsers.parse("61010-61000") }
    }
}
