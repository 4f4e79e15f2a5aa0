/// Who may read and change an object (every version of it): the rule metadata applies to every
/// object read, search and write made for a caller, and to the objects a job refers to.
///
/// - The **owner** (who created it through the API, or the owner of the job that wrote it) reads
///   and changes it (new versions, tags, sharing).
/// - Members of a team it is **shared with** read it (and run jobs that use it); ``everyone`` shares
///   it with every authenticated user.
/// - Operators read every object; admins read and change every object.
/// - An object without an owner (created before objects had owners, or by a service with no
///   caller) is readable by everyone and changed only by admins.
public enum ObjectAccess {
    /// The team name that shares an object with every authenticated user.
    public static let everyone = "*"
    /// The most teams an object is shared with.
    public static let maxTeams = 50

    public static func mayRead(owner: String?, sharedWith: [String]?, as caller: Principal) -> Bool {
        guard let owner, owner != caller.name, !caller.seesEverything else { return true }
        guard let sharedWith else { return false }
        return sharedWith.contains(everyone) || sharedWith.contains(where: caller.teams.contains)
    }

    public static func mayChange(owner: String?, as caller: Principal) -> Bool {
        caller.role == .admin || (owner != nil && owner == caller.name)
    }

    /// The teams a caller's search reads objects of: theirs and ``everyone``.
    public static func readableTeams(of caller: Principal) -> [String] {
        caller.teams + [everyone]
    }

    /// What is wrong with a list of teams to share an object with, as field problems: each a team
    /// name (1-200 printable characters) or ``everyone``, at most ``maxTeams``, and, unless the caller
    /// is an admin, only teams the caller belongs to.
    public static func sharingProblems(_ teams: [String], by caller: Principal?, field: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if teams.count > maxTeams { problems.append(FieldProblem(field: field, reason: "at most \(maxTeams) teams")) }
        for (index, team) in teams.enumerated() {
            if team == everyone { continue }
            if let reason = Principal.nameProblem(team) {
                problems.append(FieldProblem(field: "\(field)[\(index)]", reason: reason))
            } else if let caller, caller.role != .admin, !caller.teams.contains(team) {
                problems.append(FieldProblem(field: "\(field)[\(index)]", reason: "you are not a member of team '\(team)'"))
            }
        }
        return problems
    }

    /// Why a caller may not read an object, for a refusal.
    public static func readRefusal(_ objectId: String) -> String {
        "object \(objectId) belongs to another owner and is not shared with a team of yours"
    }

    /// Why a caller may not change an object, for a refusal; nil when they may. A caller who may
    /// not even read it learns no more than ``readRefusal(_:)`` says (not its owner).
    public static func changeRefusal(_ objectId: String, owner: String?, sharedWith: [String]?, as caller: Principal) -> String? {
        if mayChange(owner: owner, as: caller) { return nil }
        guard mayRead(owner: owner, sharedWith: sharedWith, as: caller) else { return readRefusal(objectId) }
        guard let owner else { return "object \(objectId) has no owner (it predates owners); only an admin may change it" }
        return "object \(objectId) belongs to \(owner); only its owner or an admin may change it"
    }
}
