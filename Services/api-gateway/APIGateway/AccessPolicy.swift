import ConveyorModels

/// Who may do what with a job, an owner's list or a token: the gateway's decisions, apart from the
/// requests that carry them out. A refusal is a ``Problem`` with status 403 naming what is not allowed.
enum AccessPolicy {
    /// A job's record, status, result, usage and log, and following its log.
    static func read(job jobId: String, ownedBy owner: String, as caller: Principal) throws {
        guard owner == caller.name || caller.seesEverything else {
            throw Problem(.forbidden, "job \(jobId) belongs to another owner; you see only your own jobs")
        }
    }

    /// Cancelling a job: its owner, operators and admins.
    static func cancel(job jobId: String, ownedBy owner: String, as caller: Principal) throws {
        guard owner == caller.name || caller.seesEverything else {
            throw Problem(.forbidden, "job \(jobId) belongs to another owner; you may cancel only your own jobs")
        }
    }

    /// Re-running a job (the new job has the same owner): its owner and admins.
    static func rerun(job jobId: String, ownedBy owner: String, as caller: Principal) throws {
        guard owner == caller.name || caller.role == .admin else {
            throw Problem(.forbidden, "job \(jobId) belongs to another owner; you may re-run only your own jobs")
        }
    }

    /// The owner a submission is recorded with: the caller. Only an admin names another owner
    /// (say, a service account); anyone may name themselves.
    static func owner(requested: String?, as caller: Principal) throws -> String {
        guard let requested, requested != caller.name else { return caller.name }
        guard caller.role == .admin else {
            throw Problem(
                .forbidden, "the owner of a job is who submits it (\(caller.name)); only an admin may submit for '\(requested)'",
                errors: [FieldProblem(field: "owner", reason: "must be absent or \(caller.name)")])
        }
        return requested
    }

    /// The owner a job list is restricted to: a user's own jobs always; operators and admins see
    /// the owner they ask for, or everyone's.
    static func listOwner(requested: String?, as caller: Principal) throws -> String? {
        if caller.seesEverything { return requested }
        guard requested == nil || requested == caller.name else {
            throw Problem(.forbidden, "you see only your own jobs, not those of '\(requested!)'",
                errors: [FieldProblem(field: "owner", reason: "must be absent or \(caller.name)")])
        }
        return caller.name
    }

    /// Tokens, and everything else that administers the deployment.
    static func administer(as caller: Principal) throws {
        guard caller.role == .admin else { throw Problem(.forbidden, "this needs the admin role; you are \(caller.role.rawValue)") }
    }
}
