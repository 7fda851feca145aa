import Foundation

/// Why a référentiel file was refused: which file, which line (1-based, the header is line 1), what is wrong.
public struct ReferentialError: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int
    public let reason: String

    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        line > 0 ? "\(file), line \(line): \(reason)" : "\(file): \(reason)"
    }
}

/// Reads the `;`-separated CSV files of the Base Adresse Nationale and of the Annuaire de l'éducation,
/// streaming, one line at a time, so a département's file (about a million lines) never sits in memory whole.
///
/// A field may be quoted (`"..."`, a quote inside doubled); a quoted field never spans lines in these files,
/// so a line is a record and the line number in an error is the line an editor shows.
/// Written by hand (README, "What we wrote by hand"): the errors must name the line, and the loader splits
/// bytes without building a `String` for the columns it does not keep.
enum SemicolonCSV {
    /// Longest line accepted; the longest real BAN line is well under 1 KiB.
    static let maximumLineBytes = 16_384
    /// Bytes read from the file at a time.
    static let readChunkBytes = 1 << 20
    static let separator = UInt8(ascii: ";")
    static let quote = UInt8(ascii: "\"")

    /// One record: the raw bytes of the line and the byte ranges of its fields.
    struct Record {
        let line: Int
        let bytes: UnsafeBufferPointer<UInt8>
        var ranges: [Range<Int>]
        /// Unescaped text of each quoted field, by column.
        var unquoted: [Int: String]

        var count: Int { ranges.count }

        func string(_ column: Int) -> String {
            if let text = unquoted[column] { return text }
            let range = ranges[column]
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }

        func isEmpty(_ column: Int) -> Bool { unquoted[column].map(\.isEmpty) ?? ranges[column].isEmpty }
    }

    /// Calls `body` with the header's column names, then with each non-empty line after it.
    static func read(path: String, header: ([String]) throws -> Void, body: (Record) throws -> Void) throws {
        let name = (path as NSString).lastPathComponent
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ReferentialError(file: name, line: 0, reason: "cannot be opened")
        }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        var lineNumber = 0
        var sawHeader = false

        func handleLine(_ line: ArraySlice<UInt8>) throws {
            lineNumber += 1
            var slice = line
            if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
            if lineNumber == 1, slice.starts(with: [0xEF, 0xBB, 0xBF]) { slice = slice.dropFirst(3) } // UTF-8 BOM
            guard slice.count <= maximumLineBytes else {
                throw ReferentialError(file: name, line: lineNumber, reason: "line longer than \(maximumLineBytes) bytes")
            }
            if slice.isEmpty { return }
            try Array(slice).withUnsafeBufferPointer { buffer in
                guard let record = split(buffer, line: lineNumber) else {
                    throw ReferentialError(file: name, line: lineNumber, reason: "a quoted field is not closed on its line")
                }
                guard String(validating: buffer, as: UTF8.self) != nil else {
                    throw ReferentialError(file: name, line: lineNumber, reason: "not valid UTF-8")
                }
                if !sawHeader {
                    sawHeader = true
                    try header((0..<record.count).map { record.string($0).trimmingCharacters(in: .whitespaces) })
                } else {
                    try body(record)
                }
            }
        }

        while true {
            let chunk = try handle.read(upToCount: readChunkBytes) ?? Data()
            if chunk.isEmpty { break }
            pending.append(contentsOf: chunk)
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                try handleLine(pending[start..<newline])
                start = newline + 1
            }
            pending.removeFirst(start)
            if pending.count > maximumLineBytes {
                throw ReferentialError(file: name, line: lineNumber + 1, reason: "line longer than \(maximumLineBytes) bytes")
            }
        }
        if !pending.isEmpty { try handleLine(pending[...]) }
        if !sawHeader { throw ReferentialError(file: name, line: 0, reason: "empty file: no header line") }
    }

    /// Splits one line into fields; nil when a quote is left open.
    static func split(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) -> Record? {
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(24)
        var unquoted: [Int: String] = [:]
        var index = 0
        let end = bytes.count
        while true {
            if index < end && bytes[index] == quote {
                var text: [UInt8] = []
                var cursor = index + 1
                var closed = false
                while cursor < end {
                    if bytes[cursor] == quote {
                        if cursor + 1 < end && bytes[cursor + 1] == quote { text.append(quote); cursor += 2; continue }
                        closed = true
                        cursor += 1
                        break
                    }
                    text.append(bytes[cursor])
                    cursor += 1
                }
                guard closed else { return nil }
                unquoted[ranges.count] = String(decoding: text, as: UTF8.self)
                ranges.append(index..<cursor)
                // Anything between the closing quote and the next separator is kept out (lenient, as readers are).
                while cursor < end && bytes[cursor] != separator { cursor += 1 }
                if cursor >= end { break }
                index = cursor + 1
            } else {
                var cursor = index
                while cursor < end && bytes[cursor] != separator { cursor += 1 }
                ranges.append(index..<cursor)
                if cursor >= end { break }
                index = cursor + 1
                if index == end { ranges.append(end..<end); break }
            }
        }
        return Record(line: line, bytes: bytes, ranges: ranges, unquoted: unquoted)
    }

    /// The index of each column the loader needs, or an error naming the first missing one.
    static func columns(_ names: [String], required: [String], file: String) throws -> [String: Int] {
        var index: [String: Int] = [:]
        for (position, column) in names.enumerated() where index[column] == nil { index[column] = position }
        for column in required where index[column] == nil {
            throw ReferentialError(file: file, line: 1, reason: "the header has no column '\(column)'")
        }
        return index
    }
}

/// A point on the map, in integer micro-degrees (WGS 84): exact to compare and store, about 11 cm of latitude.
public struct Coordinates: Hashable, Sendable, Codable {
    public let latitudeMicrodegrees: Int32
    public let longitudeMicrodegrees: Int32

    public init(latitudeMicrodegrees: Int32, longitudeMicrodegrees: Int32) {
        self.latitudeMicrodegrees = latitudeMicrodegrees
        self.longitudeMicrodegrees = longitudeMicrodegrees
    }

    public var latitude: Double { Double(latitudeMicrodegrees) / 1_000_000 }
    public var longitude: Double { Double(longitudeMicrodegrees) / 1_000_000 }

    /// Parses a decimal degree as the files write it ("49.894067", "-1.5", "2,3" with a comma too),
    /// rounding to the micro-degree without going through floating point; nil if not a number in `limit`.
    static func parseMicrodegrees(_ text: String, limit: Int64) -> Int32? {
        var text = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if text.first == "-" { negative = true; text = text.dropFirst() } else if text.first == "+" { text = text.dropFirst() }
        let parts = text.split(separator: text.contains(",") ? "," : ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 3, whole.allSatisfy(\.isASCII), let degrees = Int64(whole) else { return nil }
        var fraction = parts.count > 1 ? Array(parts[1]) : []
        guard fraction.count <= 15, fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let roundUp = fraction.count > 6 && fraction[6] >= "5"
        fraction = Array(fraction.prefix(6)) + Array(repeating: "0", count: max(0, 6 - fraction.count))
        guard let micro = Int64(String(fraction)) else { return nil }
        var value = degrees * 1_000_000 + micro + (roundUp ? 1 : 0)
        if negative { value = -value }
        guard abs(value) <= limit * 1_000_000 else { return nil }
        return Int32(value)
    }

    public init?(latitude: String, longitude: String) {
        guard let lat = Self.parseMicrodegrees(latitude, limit: 90),
              let lon = Self.parseMicrodegrees(longitude, limit: 180) else { return nil }
        self.init(latitudeMicrodegrees: lat, longitudeMicrodegrees: lon)
    }
}
