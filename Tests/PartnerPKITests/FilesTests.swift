import Foundation
import PartnerPKI
import Testing

@Suite("Secret and public files")
struct FilesTests {
    @Test func secretFilesAre0600AndPublicFiles0644() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let ca = try PartnerCA.create()
        let terminal = try ca.issueTerminalCertificate(terminalID: "T001", partnerID: "P001")
        try terminal.write(certificatePath: dir.file("T001.pem"), keyPath: dir.file("T001.key"))
        #expect(try permissions(dir.file("T001.key")) == 0o600)
        #expect(try permissions(dir.file("T001.pem")) == 0o644)
        #expect(try String(contentsOfFile: dir.file("T001.key"), encoding: .utf8) == terminal.privateKeyPEM)
        #expect(try String(contentsOfFile: dir.file("T001.pem"), encoding: .utf8) == terminal.certificatePEM)
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["T001.key", "T001.pem"])
    }

    @Test func replacingKeepsTheModeAndTheNewContents() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try SecretFile.write(path: dir.file("k"), contents: "one")
        try SecretFile.write(path: dir.file("k"), contents: "two")
        #expect(try String(contentsOfFile: dir.file("k"), encoding: .utf8) == "two")
        #expect(try permissions(dir.file("k")) == 0o600)
    }

    @Test func refusingToReplaceLeavesTheFileAlone() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try SecretFile.write(path: dir.file("k"), contents: "first", replaceExisting: false)
        do {
            try SecretFile.write(path: dir.file("k"), contents: "second-secret", replaceExisting: false)
            Issue.record("must refuse an existing file")
        } catch {
            #expect(error.code == .fileSystem)
            #expect(error.reason.contains("already exists"))
            #expect(!error.reason.contains("second-secret"))
        }
        #expect(try String(contentsOfFile: dir.file("k"), encoding: .utf8) == "first")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["k"])
    }

    @Test func errorsNameThePathNotTheContents() throws {
        do {
            try SecretFile.write(path: "/nonexistent-dir-\(UUID().uuidString)/x.key", contents: "TOPSECRET")
            Issue.record("must fail")
        } catch {
            #expect(error.code == .fileSystem)
            #expect(error.reason.contains("x.key"))
            #expect(!error.reason.contains("TOPSECRET"))
        }
    }

    @Test func bytesAndRelativePaths() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try PublicFile.write(path: dir.file("b.bin"), bytes: [0, 1, 2, 255])
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("b.bin"))) == Data([0, 1, 2, 255]))
        #expect(try TextFile.read(path: dir.file("b.bin")).utf8.count >= 3)
    }
}
