import ConveyorModels
import Testing

/// The object access rule: owners, teams, everyone, roles and objects without an owner.
@Suite("Object access")
struct ObjectAccessTests {
    let ann = Principal(name: "ann", role: .user, teams: ["risk", "ops"], method: "token")
    let bob = Principal(name: "bob", role: .user, method: "token")
    let olga = Principal(name: "olga", role: .operator, method: "token")
    let root = Principal(name: "root", role: .admin, method: "jwt")

    @Test("who reads: the owner, a team it is shared with, everyone with '*', operators and admins, and anyone for an object without owner")
    func reading() {
        #expect(ObjectAccess.mayRead(owner: "ann", sharedWith: nil, as: ann))
        #expect(!ObjectAccess.mayRead(owner: "ann", sharedWith: nil, as: bob))
        #expect(!ObjectAccess.mayRead(owner: "ann", sharedWith: ["risk"], as: bob))
        #expect(ObjectAccess.mayRead(owner: "bob", sharedWith: ["risk"], as: ann))
        #expect(!ObjectAccess.mayRead(owner: "bob", sharedWith: ["finance"], as: ann))
        #expect(ObjectAccess.mayRead(owner: "ann", sharedWith: [ObjectAccess.everyone], as: bob))
        #expect(ObjectAccess.mayRead(owner: "ann", sharedWith: nil, as: olga))
        #expect(ObjectAccess.mayRead(owner: "ann", sharedWith: nil, as: root))
        #expect(ObjectAccess.mayRead(owner: nil, sharedWith: nil, as: bob))
        #expect(ObjectAccess.readableTeams(of: ann) == ["risk", "ops", "*"])
    }

    @Test("who changes: the owner and admins; not team members or operators; an object without owner only admins")
    func changing() {
        #expect(ObjectAccess.mayChange(owner: "ann", as: ann))
        #expect(!ObjectAccess.mayChange(owner: "ann", as: bob))
        #expect(!ObjectAccess.mayChange(owner: "ann", as: olga))
        #expect(ObjectAccess.mayChange(owner: "ann", as: root))
        #expect(!ObjectAccess.mayChange(owner: nil, as: ann))
        #expect(ObjectAccess.mayChange(owner: nil, as: root))
    }

    @Test("a refused change names the owner only to who may read the object")
    func changeRefusal() {
        #expect(ObjectAccess.changeRefusal("o1", owner: "ann", sharedWith: nil, as: ann) == nil)
        #expect(ObjectAccess.changeRefusal("o1", owner: "ann", sharedWith: nil, as: root) == nil)
        #expect(ObjectAccess.changeRefusal("o1", owner: "ann", sharedWith: nil, as: bob) == ObjectAccess.readRefusal("o1"))
        #expect(ObjectAccess.changeRefusal("o1", owner: "bob", sharedWith: ["risk"], as: ann) == "object o1 belongs to bob; only its owner or an admin may change it")
        #expect(ObjectAccess.changeRefusal("o1", owner: "ann", sharedWith: nil, as: olga)?.contains("belongs to ann") == true, "operators read everything")
        #expect(ObjectAccess.changeRefusal("o1", owner: nil, sharedWith: nil, as: bob)?.contains("no owner") == true)
    }

    @Test("sharing names only the caller's teams (admins any) or '*', valid names, at most 50")
    func sharing() {
        #expect(ObjectAccess.sharingProblems(["risk", "*"], by: ann, field: "sharedWith").isEmpty)
        #expect(ObjectAccess.sharingProblems(["finance", "risk", ""], by: ann, field: "sharedWith").map(\.field) == ["sharedWith[0]", "sharedWith[2]"])
        #expect(ObjectAccess.sharingProblems(["finance"], by: root, field: "sharedWith").isEmpty)
        #expect(ObjectAccess.sharingProblems(Array(repeating: "*", count: 51), by: ann, field: "sharedWith").map(\.field) == ["sharedWith"])
    }
}
