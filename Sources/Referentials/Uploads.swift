import Foundation

/// What an uploaded file is, by its content (never its name).
public enum UploadKind: String, Sendable, Codable, CaseIterable {
    case jpeg, png, pdf

    public var fileExtension: String {
        switch self {
        case .jpeg: return "jpg"
        case .png: return "png"
        case .pdf: return "pdf"
        }
    }

    public var mediaType: String {
        switch self {
        case .jpeg: return "image/jpeg"
        case .png: return "image/png"
        case .pdf: return "application/pdf"
        }
    }
}

/// Why an upload was refused: one French sentence for the beneficiary's page, tied to its field.
public struct UploadRefusal: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// The beneficiaries' uploads (photo, apprenticeship contract, THR supporting documents): checked by content,
/// at most 5 MB, stored under random names, mode 0600, in `DIR/uploads/` (mode 0700). Served to no one by
/// this module: the pages give a file to its owner and the operator only.
public struct UploadStore: Sendable {
    /// The contract's limit (§8): 5 MB, as 5 × 1024 × 1024 bytes.
    public static let maximumBytes = 5 * 1024 * 1024
    public static let directoryName = "uploads"
    /// Random bytes in a stored name (hex-encoded): unguessable, never the beneficiary's file name.
    static let nameRandomBytes = 16
    /// How far from the end a PDF's `%%EOF` may sit (some writers append a few bytes after it).
    static let pdfTrailerWindowBytes = 1024

    public let directory: String

    public init(environmentDirectory: String) {
        directory = environmentDirectory + "/" + Self.directoryName
    }

    /// What `bytes` is, or why it is refused. `allowed` narrows the kinds (a photo is JPEG or PNG).
    public static func check(_ bytes: [UInt8], allowed: Set<UploadKind> = Set(UploadKind.allCases)) throws(UploadRefusal) -> UploadKind {
        guard !bytes.isEmpty else { throw UploadRefusal(message: "Ce fichier est vide : choisis un autre fichier.") }
        guard bytes.count <= maximumBytes else {
            throw UploadRefusal(message: "Ce fichier dépasse 5 Mo : choisis un fichier plus léger.")
        }
        let kind: UploadKind
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            kind = .png
            // The first chunk is IHDR (13 bytes of data), the last IEND (no data, then its CRC).
            let iend: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44]
            guard bytes.count >= 8 + 25 + 12, Array(bytes[8..<16]) == [0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52],
                  Array(bytes[(bytes.count - 12)..<(bytes.count - 4)]) == iend else {
                throw UploadRefusal(message: "Cette image PNG est incomplète ou abîmée : enregistre-la à nouveau puis réessaie.")
            }
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            kind = .jpeg
            // A JPEG ends with EOI (FF D9); some cameras pad after it with zeros.
            var end = bytes.count
            while end > 2 && bytes[end - 1] == 0 { end -= 1 }
            guard end >= 4, bytes[end - 2] == 0xFF, bytes[end - 1] == 0xD9 else {
                throw UploadRefusal(message: "Cette image JPEG est incomplète ou abîmée : enregistre-la à nouveau puis réessaie.")
            }
        } else if bytes.starts(with: Array("%PDF-".utf8)) {
            kind = .pdf
            let tail = bytes.suffix(pdfTrailerWindowBytes)
            let marker = Array("%%EOF".utf8)
            let found = tail.count >= marker.count && (tail.startIndex...(tail.endIndex - marker.count)).contains {
                tail[$0..<($0 + marker.count)].elementsEqual(marker)
            }
            guard bytes.count >= 8, (bytes[5] == UInt8(ascii: "1") || bytes[5] == UInt8(ascii: "2")), found else {
                throw UploadRefusal(message: "Ce document PDF est incomplet ou abîmé : enregistre-le à nouveau puis réessaie.")
            }
        } else {
            throw UploadRefusal(message: allowed.contains(.pdf)
                ? "Ce fichier n'est ni une photo (JPEG, PNG) ni un document PDF : choisis un autre fichier."
                : "Ce fichier n'est pas une photo JPEG ou PNG : choisis un autre fichier.")
        }
        guard allowed.contains(kind) else {
            throw UploadRefusal(message: allowed.contains(.pdf)
                ? "Ce fichier n'est ni une photo (JPEG, PNG) ni un document PDF : choisis un autre fichier."
                : "Ta photo doit être une image JPEG ou PNG : choisis un autre fichier.")
        }
        return kind
    }

    public struct Stored: Sendable, Equatable {
        /// The random name under `uploads/` that the ledger keeps.
        public let name: String
        public let kind: UploadKind
        public let byteCount: Int
    }

    /// Checks then stores `bytes`; returns the random stored name. Nothing is written for a refused file.
    public func store(_ bytes: [UInt8], allowed: Set<UploadKind> = Set(UploadKind.allCases)) throws -> Stored {
        let kind = try Self.check(bytes, allowed: allowed)
        try ensureDirectory()
        var generator = SystemRandomNumberGenerator()
        let random = (0..<Self.nameRandomBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let name = random.map { String(format: "%02x", $0) }.joined() + "." + kind.fileExtension
        let path = directory + "/" + name
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw UploadStorageError(reason: "cannot create \(name): errno \(errno)") }
        var written = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let result = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result <= 0 { return false }
                written += result
            }
            return fsync(descriptor) == 0
        }
        close(descriptor)
        guard ok else {
            unlink(path)
            throw UploadStorageError(reason: "cannot write \(name)")
        }
        return Stored(name: name, kind: kind, byteCount: bytes.count)
    }

    /// A stored name as `store` makes them: 32 hex digits and a known extension (no path can be smuggled in).
    public static func isStoredName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == nameRandomBytes * 2,
              parts[0].allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
              UploadKind.allCases.contains(where: { $0.fileExtension == parts[1] }) else { return false }
        return true
    }

    public func exists(_ name: String) -> Bool {
        Self.isStoredName(name) && FileManager.default.fileExists(atPath: directory + "/" + name)
    }

    /// The bytes of a stored upload (for its owner or the operator; the caller checks who asks).
    public func read(_ name: String) throws -> [UInt8] {
        guard Self.isStoredName(name), let data = FileManager.default.contents(atPath: directory + "/" + name) else {
            throw UploadStorageError(reason: "no upload named '\(name)'")
        }
        return Array(data)
    }

    /// Deletes a stored upload (a photo replaced, a draft's file no longer used). Unknown names are ignored.
    public func remove(_ name: String) {
        guard Self.isStoredName(name) else { return }
        unlink(directory + "/" + name)
    }

    /// Deletes the uploads last modified before `cutoff` that `referenced` does not name: the files of drafts
    /// never sent (a session's draft lives at most an hour). Returns how many were deleted.
    @discardableResult
    public func sweep(olderThan cutoff: Date, keeping referenced: Set<String>) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed = 0
        for name in names where Self.isStoredName(name) && !referenced.contains(name) {
            let path = directory + "/" + name
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                  modified < cutoff else { continue }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    func ensureDirectory() throws {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        chmod(directory, 0o700)
    }
}

public struct UploadStorageError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { "uploads: \(reason)" }
}
