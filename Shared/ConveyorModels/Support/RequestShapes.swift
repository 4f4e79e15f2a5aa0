/// The JSON shapes of every document a client sends, for reporting all structural problems at once.
extension TagSelector {
    public static let shape = JSONShape.object([
        "objectType": .optional(.enumeration(ObjectType.self)), "objectId": .required(.uuid),
        "objectVersion": .optional(.integer), "objectAsOf": .optional(.dateTime), "latestObject": .optional(.boolean),
        "tagVersion": .optional(.integer), "tagAsOf": .optional(.dateTime), "latestTag": .optional(.boolean),
    ])
}

extension TagUpdate {
    public static let shape = JSONShape.object([
        "operation": .optional(.enumeration(TagUpdate.Operation.self)), "attrName": .optional(.string),
        "value": .optional(.value),
    ])
}

extension JobDefinition {
    public static let shape: JSONShape = {
        let selectors = JSONShape.map(TagSelector.shape)
        let updates = JSONShape.array(TagUpdate.shape)
        let parameters = JSONShape.map(.value)
        let location = JSONShape.object(["storage": .optional(.string), "path": .required(.string)])
        return .object([
            "jobType": .required(.enumeration(JobType.self)),
            "importModel": .optional(.object([
                "language": .required(.string), "repository": .required(.string), "packageGroup": .optional(.string),
                "package": .optional(.string), "version": .required(.string), "entryPoint": .required(.string),
                "path": .optional(.string), "modelAttrs": .optional(updates),
            ])),
            "importData": .optional(.object([
                "model": .optional(TagSelector.shape), "parameters": .optional(parameters), "inputs": .optional(selectors),
                "outputs": .optional(selectors), "priorOutputs": .optional(selectors),
                "imports": .required(.map(location)), "storageAccess": .optional(.array(.string)),
                "importAttrs": .optional(updates), "outputAttrs": .optional(updates),
            ])),
            "exportData": .optional(.object([
                "model": .optional(TagSelector.shape), "parameters": .optional(parameters), "inputs": .required(selectors),
                "outputs": .optional(selectors), "priorOutputs": .optional(selectors),
                "exports": .required(.map(location)), "storageAccess": .optional(.array(.string)),
                "outputAttrs": .optional(updates),
            ])),
            "runModel": .optional(.object([
                "model": .required(TagSelector.shape), "parameters": .optional(parameters), "inputs": .optional(selectors),
                "outputs": .optional(selectors), "priorOutputs": .optional(selectors), "outputAttrs": .optional(updates),
            ])),
            "runFlow": .optional(.object([
                "flow": .required(TagSelector.shape), "models": .required(selectors), "parameters": .optional(parameters),
                "inputs": .optional(selectors), "outputs": .optional(selectors), "priorOutputs": .optional(selectors),
                "outputAttrs": .optional(updates), "reuse": .optional(.map(selectors)),
            ])),
            "jobGroup": .optional(.object([
                "groupType": .required(.enumeration(JobGroupJob.GroupType.self)),
                "jobs": .required(.array(.deferred { JobDefinition.shape })),
            ])),
            "priority": .optional(.integer),
            "resources": .optional(.object([
                "cpus": .optional(.integer), "memoryMB": .optional(.integer), "gpus": .optional(.integer), "maxRunSeconds": .optional(.integer),
            ])),
            "retry": .optional(.object([
                "maxAttempts": .required(.integer), "backoffSeconds": .optional(.number), "backoffMultiplier": .optional(.number),
                "maxBackoffSeconds": .optional(.number), "retryOn": .optional(.array(.enumeration(FailureKind.self))),
                "memoryFactor": .optional(.number), "runTimeFactor": .optional(.number),
            ])),
            "dependsOn": .optional(.object([
                "jobIds": .required(.array(.uuid)), "condition": .optional(.enumeration(Dependencies.Condition.self)),
            ])),
            "notification": .optional(NotificationSettings.shape),
            "labels": .optional(.map(.string)),
            "owner": .optional(.string),
            "idempotencyKey": .optional(.string),
            "profile": .optional(.string),
        ])
    }()
}

extension ObjectDefinition {
    public static let shape: JSONShape = {
        let schemaShape = JSONShape.object([
            "fields": .required(.array(.object([
                "fieldName": .required(.string), "fieldType": .required(.enumeration(BasicType.self)),
                "label": .optional(.string), "businessKey": .optional(.boolean), "notNull": .optional(.boolean),
            ])))
        ])
        let socket = JSONShape.object(["node": .required(.string), "socket": .optional(.string)])
        let sockets = JSONShape.map(.object(["label": .optional(.string), "optional": .optional(.boolean), "schema": .optional(schemaShape)]))
        return .object([
            "objectType": .required(.enumeration(ObjectType.self)),
            "model": .optional(.object([
                "language": .required(.string), "repository": .required(.string), "packageGroup": .optional(.string),
                "package": .optional(.string), "version": .required(.string), "entryPoint": .required(.string),
                "path": .optional(.string), "commit": .optional(.string), "environment": .optional(.string),
                "parameters": .optional(.map(.object([
                    "paramType": .required(.enumeration(BasicType.self)), "label": .optional(.string),
                    "defaultValue": .optional(.value),
                ]))),
                "inputs": .optional(sockets), "outputs": .optional(sockets),
            ])),
            "data": .optional(.object([
                "schema": .optional(TagSelector.shape), "schemaDefinition": .optional(schemaShape),
                "format": .optional(.string), "sizeBytes": .optional(.integer), "rowCount": .optional(.integer),
            ])),
            "file": .optional(.object([
                "name": .required(.string), "mimeType": .required(.string), "sizeBytes": .required(.integer),
                "sha256": .optional(.string),
            ])),
            "flow": .optional(.object([
                "nodes": .required(.map(.object([
                    "nodeType": .required(.enumeration(FlowNode.NodeType.self)), "inputs": .optional(.array(.string)),
                    "outputs": .optional(.array(.string)), "label": .optional(.string),
                ]))),
                "edges": .required(.array(.object(["source": .required(socket), "target": .required(socket)]))),
            ])),
            "schema": .optional(schemaShape),
            "job": .optional(JobDefinition.shape),
        ])
    }()
}

extension TokenRequest {
    public static let shape = JSONShape.object([
        "principal": .required(.string), "role": .optional(.enumeration(Role.self)), "teams": .optional(.array(.string)),
        "label": .optional(.string), "expiresInDays": .optional(.integer), "requestsPerSecond": .optional(.integer),
    ])
}

extension NotificationSettings {
    public static let shape = JSONShape.object([
        "email": .required(.array(.string)), "on": .optional(.array(.enumeration(JobStatus.self))),
        "when": .optional(.enumeration(NotificationSettings.When.self)),
    ])
}
