import ConveyorModels
import Foundation
import Postgres

/// Compiles a ``SearchExpression`` to SQL over `object_tags t` with every value bound as a parameter
/// (nothing from the request is ever spliced into the SQL text). Each term is an `EXISTS` over the
/// `tag_attrs` index, which PostgreSQL answers from the `(attr_name, value, tag_key)` indexes.
struct ObjectSearchSQL {
    private(set) var parameters: [(any PostgresBindable)?] = []

    mutating func bind(_ value: (any PostgresBindable)?) -> String {
        parameters.append(value)
        return "$\(parameters.count)"
    }

    mutating func condition(_ expression: SearchExpression) -> String {
        switch expression {
        case .and(let items): return "(" + rangesMerged(items).joined(separator: " AND ") + ")"
        case .or(let items): return union(items) ?? "(" + items.map { condition($0) }.joined(separator: " OR ") + ")"
        case .not(let item): return "NOT " + condition(item)
        case .term(let term): return condition(term)
        }
    }

    /// The conditions of an AND, where comparison terms (LT, LE, GT, GE) on the same attribute and
    /// value family become one range: a value between the bounds, found with one index range scan.
    private mutating func rangesMerged(_ items: [SearchExpression]) -> [String] {
        var conditions: [String] = []
        var ranges: [String: [SearchTerm]] = [:]
        var order: [String] = []
        for item in items {
            if case .term(let term) = item, [.lt, .le, .gt, .ge].contains(term.operator), let value = term.value,
                let column = AttributeIndex.column(value)
            {
                let key = term.attrName + "\u{0}" + Self.column(column).0
                if ranges[key] == nil { order.append(key) }
                ranges[key, default: []].append(term)
            } else {
                conditions.append(condition(item))
            }
        }
        for key in order {
            let terms = ranges[key]!
            guard terms.count > 1 else {
                conditions.append(condition(terms[0]))
                continue
            }
            let name = bind(terms[0].attrName)
            var predicates: [String] = []
            for term in terms {
                let item = AttributeIndex.column(term.value!)!
                let (column, cast) = Self.column(item)
                predicates.append("a.\(column) \(Self.symbol(term.operator)) \(bind(Self.text(item)))\(cast)")
            }
            conditions.append(
                "EXISTS (SELECT 1 FROM tag_attrs a WHERE a.tag_key = t.tag_key AND a.attr_name = \(name) AND "
                    + predicates.joined(separator: " AND ") + ")")
        }
        return conditions
    }

    private static func symbol(_ op: SearchOperator) -> String {
        [SearchOperator.eq: "=", .lt: "<", .le: "<=", .gt: ">", .ge: ">="][op] ?? "="
    }

    private mutating func condition(_ term: SearchTerm) -> String {
        if term.operator == .ne, let value = term.value, let item = AttributeIndex.column(value) {
            // Has the attribute, and no value equal to the one given.
            let has = "EXISTS (SELECT 1 FROM tag_attrs a WHERE a.tag_key = t.tag_key AND a.attr_name = \(bind(term.attrName)))"
            let (column, cast) = Self.column(item)
            let equal = "EXISTS (SELECT 1 FROM tag_attrs a WHERE a.tag_key = t.tag_key AND a.attr_name = \(bind(term.attrName)) AND a.\(column) = \(bind(Self.text(item)))\(cast))"
            return "(\(has) AND NOT \(equal))"
        }
        guard let predicate = predicate(term) else { return "FALSE" }
        return "EXISTS (SELECT 1 FROM tag_attrs a WHERE a.tag_key = t.tag_key AND \(predicate))"
    }

    /// An OR of terms other than NE: the union of each term's index rows, so each term is one index
    /// scan and the objects are found by key (an OR of EXISTS would probe every object instead).
    private mutating func union(_ items: [SearchExpression]) -> String? {
        let terms = items.compactMap { item -> SearchTerm? in
            if case .term(let term) = item, term.operator != .ne { return term }
            return nil
        }
        // Decided before anything is bound: a parameter bound and then not used breaks the statement.
        guard !terms.isEmpty, terms.count == items.count else { return nil }
        var predicates: [String] = []
        for term in terms { predicates.append(predicate(term) ?? "FALSE") }
        return "t.tag_key IN (" + predicates.map { "SELECT a.tag_key FROM tag_attrs a WHERE " + $0 }.joined(separator: " UNION ALL ") + ")"
    }

    /// The condition on one `tag_attrs a` row for a term (not NE); nil when no value can match.
    private mutating func predicate(_ term: SearchTerm) -> String? {
        let name = "a.attr_name = \(bind(term.attrName))"
        guard let value = term.value, term.operator != .exists else { return name }
        switch term.operator {
        case .in:
            let items = value.scalarItems.compactMap(AttributeIndex.column)
            guard let first = items.first else { return nil }
            let (column, cast) = Self.column(first)
            return "\(name) AND a.\(column) IN (" + items.map { bind(Self.text($0)) + cast }.joined(separator: ", ") + ")"
        default:
            guard let item = AttributeIndex.column(value) else { return nil }
            let (column, cast) = Self.column(item)
            return "\(name) AND a.\(column) \(Self.symbol(term.operator)) \(bind(Self.text(item)))\(cast)"
        }
    }

    private static func column(_ column: AttributeIndex.Column) -> (String, String) {
        switch column {
        case .text: ("v_text", "")
        case .number: ("v_num", "::numeric")
        case .boolean: ("v_bool", "::boolean")
        case .time: ("v_time", "::timestamptz")
        }
    }

    private static func text(_ column: AttributeIndex.Column) -> String {
        switch column {
        case .text(let text), .number(let text), .time(let text): text
        case .boolean(let flag): flag ? "true" : "false"
        }
    }
}

/// The opaque cursor of a search: the snapshot time of the first page and the last tag row seen,
/// so later pages read the same snapshot however many objects change meanwhile.
enum SearchCursor {
    static func encode(asOf: Date, tagKey: Int64) -> String {
        Data("\(Timestamp.format(asOf))|\(tagKey)".utf8).base64EncodedString()
    }

    static func decode(_ cursor: String) -> (asOf: Date, tagKey: Int64)? {
        guard let data = Data(base64Encoded: cursor) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: "|")
        guard parts.count == 2, let asOf = Timestamp.parse(String(parts[0])), let key = Int64(parts[1]) else { return nil }
        return (asOf, key)
    }
}

extension ObjectStore {
    /// Objects whose latest tag (of their latest version) matches, newest tag first; or the tags
    /// current at `asOf`.
    func search(_ request: SearchObjects) async throws -> ObjectPage {
        let (rows, next) = try await searchRows(request)
        return ObjectPage(objects: try rows.map(Self.record), nextCursor: next)
    }

    /// ``search(_:)`` as JSON, written from the stored rows (``ObjectRecordJSON``).
    func searchJSON(_ request: SearchObjects) async throws -> Data {
        let (rows, next) = try await searchRows(request)
        return try ObjectRecordJSON.page(rows, nextCursor: next)
    }

    /// The rows of a search's page, and the cursor of the next page.
    private func searchRows(_ request: SearchObjects) async throws -> (rows: ArraySlice<PostgresRow>, next: String?) {
        var problems = request.search?.problems(field: "search") ?? []
        let limit = request.limit ?? SearchObjects.defaultLimit
        if !(1...SearchObjects.maxLimit).contains(limit) {
            problems.append(FieldProblem(field: "limit", reason: "must be between 1 and \(SearchObjects.maxLimit)"))
        }
        var cursor: (asOf: Date, tagKey: Int64)?
        if let text = request.cursor {
            cursor = SearchCursor.decode(text)
            if cursor == nil { problems.append(FieldProblem(field: "cursor", reason: "not a cursor returned by this API")) }
        }
        guard problems.isEmpty else { throw MetadataError.invalid("invalid search", problems: problems) }

        var sql = ObjectSearchSQL()
        var conditions: [String] = []
        let asOf = cursor?.asOf ?? request.asOf
        if let asOf {
            let time = sql.bind(asOf)
            conditions.append("t.search_from <= \(time)::timestamptz AND (t.search_to IS NULL OR t.search_to > \(time)::timestamptz)")
        } else {
            conditions.append("t.search_to IS NULL")
        }
        if let type = request.objectType { conditions.append("t.object_type = \(sql.bind(type.rawValue))") }
        if let key = cursor?.tagKey { conditions.append("t.tag_key < \(sql.bind(key))") }
        if let search = request.search { conditions.append(sql.condition(search)) }
        if let caller = request.caller, !caller.seesEverything {
            // Only what the caller may read (ObjectAccess): a key lookup of the tag's object version.
            conditions.append(
                """
                EXISTS (SELECT 1 FROM objects r WHERE r.object_id = t.object_id AND r.object_version = t.object_version
                        AND (r.owner IS NULL OR r.owner = \(sql.bind(caller.name))
                             OR r.shared_with ?| \(sql.bind(PostgresArray.literal(ObjectAccess.readableTeams(of: caller))))::text[]))
                """)
        }
        // The page's tag keys first, from the indexes alone (the current tags' (object_type, tag_key)
        // index walks newest first); only then the page's rows, wide as they are, by key.
        let query = """
            WITH hits AS MATERIALIZED (
                SELECT t.tag_key FROM object_tags t
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY t.tag_key DESC
                LIMIT \(sql.bind(limit + 1))
            )
            SELECT t.tag_key, t.tag_version, t.attributes, t.created_at AS tag_created_at, o.object_id, o.object_version,
                   o.object_type, o.definition, o.storage_path, o.job_id, o.created_at, o.owner, o.shared_with,
                   statement_timestamp() AS searched_at
            FROM hits JOIN object_tags t USING (tag_key) JOIN objects o USING (object_id, object_version)
            ORDER BY t.tag_key DESC
            """
        let rows = try await pool.query(query, sql.parameters)
        let page = Array(rows).prefix(limit)
        var next: String? = nil
        if rows.count > limit, let last = page.last {
            let snapshot = try asOf ?? last.date("searched_at")
            next = SearchCursor.encode(asOf: snapshot, tagKey: try last.int64("tag_key"))
        }
        return (page, next)
    }
}
