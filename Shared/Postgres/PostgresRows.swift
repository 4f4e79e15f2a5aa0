/// The rows returned by a statement, with the number of rows it affected.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// The rows, in order.
    public var rows: [PostgresRow]
    /// The column names of the result, in order (empty for statements without a result set).
    public var columnNames: [String]
    /// The number of rows inserted, updated, deleted, selected, ... (`PQcmdTuples`), 0 when not applicable.
    public var affectedRows: Int

    /// Creates a result.
    public init(rows: [PostgresRow], columnNames: [String], affectedRows: Int) {
        self.rows = rows
        self.columnNames = columnNames
        self.affectedRows = affectedRows
    }

    /// The index of the first row.
    public var startIndex: Int { rows.startIndex }
    /// The index past the last row.
    public var endIndex: Int { rows.endIndex }
    /// The row at `position`.
    public subscript(position: Int) -> PostgresRow { rows[position] }
}
