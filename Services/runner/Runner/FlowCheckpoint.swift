import ConveyorModels

/// The outputs of the flow nodes that finished in an attempt, named as a failed flow's result
/// lists them (`result.outputs`, ``RunFlowJob/nodeOutputName(node:socket:)``), for a chain re-run
/// to keep (`runFlow.reuse`). Only the sockets the flow takes further are kept.
struct FlowCheckpoint {
    let flow: FlowDefinition
    private(set) var outputs: [String: String] = [:]
    private(set) var nodes: Set<String> = []

    init(flow: FlowDefinition) {
        self.flow = flow
    }

    mutating func record(node: String, outputs produced: [String: String]) {
        nodes.insert(node)
        for edge in flow.edges where edge.source.node == node {
            guard let socket = edge.source.socket, let path = produced[socket] else { continue }
            outputs[RunFlowJob.nodeOutputName(node: node, socket: socket)] = path
        }
    }
}
