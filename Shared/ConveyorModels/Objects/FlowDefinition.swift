/// A flow: a graph of model nodes joined by edges from outputs to inputs (TRAC's `FlowDefinition`).
///
/// INPUT nodes bring data sets in, OUTPUT nodes take results out, MODEL nodes name their input and
/// output sockets. A flow is valid when every edge joins existing sockets, every model input and
/// every OUTPUT node is fed by exactly one edge, and the graph has no cycle.
public struct FlowDefinition: Sendable, Codable, Hashable {
    public var nodes: [String: FlowNode]
    public var edges: [FlowEdge]

    public init(nodes: [String: FlowNode], edges: [FlowEdge]) {
        self.nodes = nodes
        self.edges = edges
    }

    /// Every problem with the graph, with paths under `field`.
    public func problems(field: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if nodes.isEmpty { problems.append(FieldProblem(field: "\(field).nodes", reason: "a flow needs at least one node")) }
        for (name, node) in nodes.sorted(by: { $0.key < $1.key }) {
            if let reason = TagUpdate.nameProblem(name) { problems.append(FieldProblem(field: "\(field).nodes.\(name)", reason: reason)) }
            if node.nodeType == .parameter {
                problems.append(FieldProblem(field: "\(field).nodes.\(name)", reason: "PARAMETER_NODE is not supported: a RUN_FLOW job's parameters go to every model that declares them"))
            }
            if node.nodeType != .model, !(node.inputs ?? []).isEmpty || !(node.outputs ?? []).isEmpty {
                problems.append(FieldProblem(field: "\(field).nodes.\(name)", reason: "only MODEL nodes declare inputs and outputs"))
            }
        }
        var fed: [FlowSocket: Int] = [:]
        for (index, edge) in edges.enumerated() {
            let path = "\(field).edges[\(index)]"
            if let reason = sourceProblem(edge.source) { problems.append(FieldProblem(field: path + ".source", reason: reason)) }
            if let reason = targetProblem(edge.target) {
                problems.append(FieldProblem(field: path + ".target", reason: reason))
            } else if let first = fed[edge.target.normalized] {
                problems.append(FieldProblem(field: path + ".target", reason: "\(edge.target) is already fed by edges[\(first)]"))
            } else {
                fed[edge.target.normalized] = index
            }
        }
        for (name, node) in nodes.sorted(by: { $0.key < $1.key }) {
            switch node.nodeType {
            case .model:
                for input in node.inputs ?? [] where fed[FlowSocket(node: name, socket: input)] == nil {
                    problems.append(FieldProblem(field: "\(field).nodes.\(name).inputs", reason: "input '\(input)' is not connected"))
                }
            case .output where fed[FlowSocket(node: name)] == nil:
                problems.append(FieldProblem(field: "\(field).nodes.\(name)", reason: "output node '\(name)' is not connected"))
            default: break
            }
        }
        if problems.isEmpty, let cycle = cycle() {
            problems.append(FieldProblem(field: "\(field).edges", reason: "the flow has a cycle: \(cycle.joined(separator: " → "))"))
        }
        return problems
    }

    /// Node names in an order where every node comes after the nodes that feed it, or nil when the
    /// graph has a cycle. Ties are broken by name, so the order is stable.
    public func topologicalOrder() -> [String]? {
        var incoming: [String: Set<String>] = nodes.keys.reduce(into: [:]) { $0[$1] = [] }
        for edge in edges where nodes[edge.source.node] != nil && nodes[edge.target.node] != nil {
            incoming[edge.target.node, default: []].insert(edge.source.node)
        }
        var order: [String] = []
        var ready = incoming.filter { $0.value.isEmpty }.map(\.key).sorted()
        while !ready.isEmpty {
            let node = ready.removeFirst()
            order.append(node)
            incoming[node] = nil
            for (name, sources) in incoming where sources.contains(node) {
                incoming[name]!.remove(node)
                if incoming[name]!.isEmpty { ready.append(name); ready.sort() }
            }
        }
        return order.count == nodes.count ? order : nil
    }

    /// The nodes of one cycle, first node repeated at the end, or nil when there is none.
    func cycle() -> [String]? {
        var successors: [String: [String]] = [:]
        for edge in edges { successors[edge.source.node, default: []].append(edge.target.node) }
        var state: [String: Int] = [:]  // 1 = on the path, 2 = done
        var path: [String] = []
        func visit(_ node: String) -> [String]? {
            state[node] = 1
            path.append(node)
            for next in (successors[node] ?? []).sorted() {
                if state[next] == 1, let start = path.firstIndex(of: next) { return Array(path[start...]) + [next] }
                if state[next] == nil, let found = visit(next) { return found }
            }
            state[node] = 2
            path.removeLast()
            return nil
        }
        for node in nodes.keys.sorted() where state[node] == nil {
            if let found = visit(node) { return found }
        }
        return nil
    }

    private func sourceProblem(_ socket: FlowSocket) -> String? {
        guard let node = nodes[socket.node] else { return "no node '\(socket.node)'" }
        switch node.nodeType {
        case .input, .parameter: return socket.isNodeItself ? nil : "\(node.nodeType.rawValue) nodes have no sockets"
        case .output: return "an OUTPUT node cannot be a source"
        case .model:
            guard let name = socket.socket, !name.isEmpty else { return "name the output socket of model node '\(socket.node)'" }
            return (node.outputs ?? []).contains(name) ? nil : "model node '\(socket.node)' has no output '\(name)'"
        }
    }

    private func targetProblem(_ socket: FlowSocket) -> String? {
        guard let node = nodes[socket.node] else { return "no node '\(socket.node)'" }
        switch node.nodeType {
        case .input, .parameter: return "an \(node.nodeType.rawValue) node cannot be a target"
        case .output: return socket.isNodeItself ? nil : "OUTPUT nodes have no sockets"
        case .model:
            guard let name = socket.socket, !name.isEmpty else { return "name the input socket of model node '\(socket.node)'" }
            return (node.inputs ?? []).contains(name) ? nil : "model node '\(socket.node)' has no input '\(name)'"
        }
    }
}

public struct FlowNode: Sendable, Codable, Hashable {
    public enum NodeType: String, Sendable, Codable, CaseIterable, Hashable {
        case input = "INPUT_NODE"
        case output = "OUTPUT_NODE"
        case model = "MODEL_NODE"
        case parameter = "PARAMETER_NODE"
    }

    public var nodeType: NodeType
    public var inputs: [String]?
    public var outputs: [String]?
    public var label: String?

    public init(nodeType: NodeType, inputs: [String]? = nil, outputs: [String]? = nil, label: String? = nil) {
        self.nodeType = nodeType
        self.inputs = inputs
        self.outputs = outputs
        self.label = label
    }
}

public struct FlowEdge: Sendable, Codable, Hashable {
    public var source: FlowSocket
    public var target: FlowSocket

    public init(source: FlowSocket, target: FlowSocket) {
        self.source = source
        self.target = target
    }
}

/// A node, and for MODEL nodes one of its sockets.
public struct FlowSocket: Sendable, Codable, Hashable, CustomStringConvertible {
    public var node: String
    public var socket: String?

    public init(node: String, socket: String? = nil) {
        self.node = node
        self.socket = socket
    }

    var isNodeItself: Bool { socket == nil || socket == "" }
    /// The socket with an empty name read as the node itself.
    public var normalized: FlowSocket { isNodeItself ? FlowSocket(node: node) : self }
    public var description: String { isNodeItself ? node : "\(node).\(socket!)" }
}
