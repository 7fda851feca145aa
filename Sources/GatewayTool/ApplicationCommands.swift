import ArgumentParser
import CommandSupport
import Foundation
import HDFDomain
import Ledger
import Provisioning
import Referentials

// (issue 10) The review of card applications and THR requests (contract §9).

extension ReviewError: CommandOutput.CodedError {}
extension RightsFileError: CommandOutput.CodedError { public var code: String { "rights_file" } }
extension ReferentialError: CommandOutput.CodedError { public var code: String { "referential" } }
extension AnswersRefused: CommandOutput.CodedError { public var code: String { "answers_refused" } }

struct ReviewOptions: ParsableArguments {
    @Option(name: .long, help: "Who does this step, for the audit trail (default: operator).")
    var by: String?
}

func parseStatus(_ text: String?) throws -> ReviewStatus? {
    guard let text else { return nil }
    guard let status = ReviewStatus(rawValue: text) else {
        throw CommandOutput.Refusal(code: "invalid_status",
            "unknown status '\(text)' (expected one of \(ReviewStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    return status
}

/// One JSON object with several members (`{"card": ..., "wallets": [...]}`), on one line.
func printJSONObject<T: Encodable>(_ value: T) throws {
    FileHandle.standardOutput.write(try CommandOutput.encoder().encode(value))
    FileHandle.standardOutput.write(Data("\n".utf8))
}

struct ApplicationSummary: Encodable {
    let id: String
    let dossier: String
    let situation: String
    let status: String
    let reason: String?

    init(_ record: ApplicationRecord) {
        id = record.id
        dossier = record.dossier
        situation = record.answers.situation
        status = record.status.rawValue
        reason = record.reason
    }
}

struct ApplicationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "application", abstract: "Card applications: list, the establishment's validation, approval, rejection.",
        subcommands: [List.self, Validate.self, Approve.self, Reject.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List applications, oldest first.")
        @OptionGroup var options: DirectoryOptions
        @Option(help: "submitted, validated, approved or rejected") var status: String?

        func run() throws {
            let records = try ApplicationDesk(directory: options.dir).listApplications(status: try parseStatus(status))
            if options.json {
                try CommandOutput.printJSON("applications", records.map { ["id": $0.id, "dossier": $0.dossier,
                                                                          "situation": $0.answers.situation, "status": $0.status.rawValue] })
            } else {
                for record in records {
                    CommandOutput.printLine("\(record.id)\t\(record.dossier)\t\(record.answers.situation)/\(record.answers.level)\t\(record.status.rawValue)\(record.reason.map { "\t" + $0 } ?? "")")
                }
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "validate", abstract: "The establishment's validation.")
        @OptionGroup var options: DirectoryOptions
        @OptionGroup var review: ReviewOptions
        @Option var id: String

        func run() throws {
            let record = try ApplicationDesk(directory: options.dir).validateApplication(id: id, by: review.by)
            if options.json { try CommandOutput.printJSON("application", ApplicationSummary(record)) }
            else { CommandOutput.printLine("application \(record.id) validated (dossier \(record.dossier))") }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve",
            abstract: "Approve a validated application: issues the card (as `card issue`) and loads the rights' wallets, in one transaction.")
        @OptionGroup var options: DirectoryOptions
        @OptionGroup var review: ReviewOptions
        @Option var id: String

        func run() async throws {
            let desk = try ApplicationDesk(directory: options.dir)
            let approval = try desk.approveApplication(id: id, by: review.by)
            // The beneficiary is told (mail and/or SMS to the outbox); that never undoes the approval.
            let notice = await desk.noticeOfApproval(approval)
            if options.json {
                struct Output: Encodable {
                    let card: [String: String]
                    let wallets: [WalletOutput]
                }
                try printJSONObject(Output(card: ["pan": approval.card.pan, "key": approval.card.key ?? ""], wallets: approval.wallets))
            } else {
                CommandOutput.printLine("application \(approval.application.id) approved: card \(PAN.mask(approval.card.pan)) issued; PAN and key for personalisation: \(approval.card.pan) \(approval.card.key ?? "")")
                for wallet in approval.wallets {
                    CommandOutput.printLine("\(wallet.code) (\(wallet.label)): \(Money.display(cents: wallet.balance)), expires \(wallet.expires)")
                }
                for line in notice.lines { CommandOutput.printLine("beneficiary told: \(line)") }
            }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reject", abstract: "Reject an application, with the reason the beneficiary reads.")
        @OptionGroup var options: DirectoryOptions
        @OptionGroup var review: ReviewOptions
        @Option var id: String
        @Option var reason: String

        func run() async throws {
            let desk = try ApplicationDesk(directory: options.dir)
            let record = try desk.rejectApplication(id: id, reason: reason, by: review.by)
            let notice = await desk.noticeOfRejection(record)
            if options.json { try CommandOutput.printJSON("application", ApplicationSummary(record)) }
            else {
                CommandOutput.printLine("application \(record.id) rejected: \(reason)")
                for line in notice.lines { CommandOutput.printLine("beneficiary told: \(line)") }
            }
        }
    }
}

struct THRSummary: Encodable {
    let id: String
    let dossier: String
    let status: String
    let distanceM: Int64
    let transport: Bool
    let hebergement: Bool
    let restauration: Bool
    let reason: String?

    enum CodingKeys: String, CodingKey {
        case id, dossier, status, transport, hebergement, restauration, reason
        case distanceM = "distance_m"
    }

    init(_ record: THRRequestRecord) {
        id = record.id
        dossier = record.dossier
        status = record.status.rawValue
        distanceM = record.input.distanceMetres
        transport = record.input.transport
        hebergement = record.input.hebergement
        restauration = record.input.restauration
        reason = record.reason
    }
}

struct THRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thr", abstract: "THR requests (transport, hébergement, restauration): list, validate, approve, reject.",
        subcommands: [List.self, Validate.self, Approve.self, Reject.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List THR requests, oldest first.")
        @OptionGroup var options: DirectoryOptions
        @Option(help: "submitted, validated, approved or rejected") var status: String?

        func run() throws {
            let records = try ApplicationDesk(directory: options.dir).listTHR(status: try parseStatus(status))
            if options.json { try CommandOutput.printJSON("thr_requests", records.map(THRSummary.init)) }
            else {
                for record in records {
                    let parts = [record.input.transport ? "transport" : nil, record.input.hebergement ? "hebergement" : nil,
                                 record.input.restauration ? "restauration" : nil].compactMap { $0 }.joined(separator: ",")
                    CommandOutput.printLine("\(record.id)\t\(record.dossier)\t\(record.input.distanceMetres) m\t\(parts)\t\(record.status.rawValue)")
                }
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "validate", abstract: "The establishment's validation.")
        @OptionGroup var options: DirectoryOptions
        @OptionGroup var review: ReviewOptions
        @Option var id: String

        func run() throws {
            let record = try ApplicationDesk(directory: options.dir).validateTHR(id: id, by: review.by)
            if options.json { try CommandOutput.printJSON("thr", THRSummary(record)) }
            else { CommandOutput.printLine("THR request \(record.id) validated (dossier \(record.dossier))") }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve",
            abstract: "Approve a validated THR request: loads TRANSPORT, HEBERGEMENT, RESTAURATION by the rights file's scale.")
        @OptionGroup var options: DirectoryOptions
        @OptionGroup var review: ReviewOptions
        @Option var id: String

        func run() throws {
            let (record, wallets) = try ApplicationDesk(directory: options.dir).approveTHR(id: id, by: review.by)
            if options.json {
                struct Output: Encodable {
                    let thr: THRSummary
                    let wallets: [WalletOutput]
                }
                try printJSONObject(Output(thr: THRSummary(record), wallets: wallets))
            } else {
                CommandOutput.printLine("THR request \(record.id) approved (\(record.input.distanceMetres) m)")
                for wallet in wallets {
                    CommandOutput.printLine("\(wallet.code) (\(wallet.label)): \(Money.display(cents: wallet.balance)), expires \(wallet.expires)")
                }
            }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reject", abstract: "Reject a THR request, with the reason.")
        @OptionGroup var options: DirectoryOptions
        @OptionGroup var review: ReviewOptions
        @Option var id: String
        @Option var reason: String

        func run() throws {
            let record = try ApplicationDesk(directory: options.dir).rejectTHR(id: id, reason: reason, by: review.by)
            if options.json { try CommandOutput.printJSON("thr", THRSummary(record)) }
            else { CommandOutput.printLine("THR request \(record.id) rejected: \(reason)") }
        }
    }
}
