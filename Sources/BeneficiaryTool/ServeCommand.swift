import ArgumentParser
import CommandSupport
import Foundation
import Hummingbird
import Logging
import WebSpace

/// `beneficiary serve --dir DIR [--host H] [--port P] [--smtp HOST:PORT] [--public-url URL]`: the
/// beneficiary web space (contract §8) on DIR's ledger, beside a running gateway.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the beneficiary web space (Espace bénéficiaire) over HTTP on DIR's ledger.")
    @Option(help: "The environment directory holding the ledger.") var dir: String
    @Option(help: "The address to listen on.") var host = WebConfiguration.defaultHost
    @Option(help: "The port to listen on (0: any free port, printed at start).") var port = WebConfiguration.defaultPort
    @Option(help: "A mail relay HOST:PORT; without it mail is written to DIR/outbox/mail/.") var smtp: String?
    @Option(name: .customLong("public-url"), help: "The address people use (mail links; https:// makes cookies Secure).")
    var publicURL: String?
    @Option(name: .customLong("anti-robot-bits"),
            help: "The anti-robot proof of work of \"Créer mon compte\": leading zero bits a browser must find (1–\(AntiRobot.maximumDifficultyBits)).")
    var antiRobotBits = AntiRobot.defaultDifficultyBits

    func validate() throws {
        guard (1...AntiRobot.maximumDifficultyBits).contains(antiRobotBits) else {
            throw ValidationError("--anti-robot-bits must be 1 to \(AntiRobot.maximumDifficultyBits), not \(antiRobotBits)")
        }
    }

    func run() async throws {
        let mail = try MailWiring(directory: dir, smtp: smtp)
        var configuration = WebConfiguration(directory: dir, host: host, port: port, publicURL: publicURL,
                                             sendMail: { to, subject, text in try await mail.send(to: to, subject: subject, text: text) })
        configuration.antiRobotBits = antiRobotBits
        var logger = Logger(label: "beneficiary-web")
        logger.logLevel = .info
        let host = self.host
        let application = try WebSpace.buildApplication(configuration: configuration, logger: logger) { port in
            print("beneficiary web space: http://\(host):\(port)/")
            fflush(nil)
        }
        try await application.runService()
    }
}
