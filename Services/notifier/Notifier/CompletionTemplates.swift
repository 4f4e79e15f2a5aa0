import Foundation
import Mustache

/// The templates of the completion e-mail (Mustache): `subject`, `text` and `html`. A deployment
/// replaces any of them with a file of that name (`subject.mustache`, `text.mustache`,
/// `html.mustache`) in the folder `notifier.templates`; the others stay as built in.
///
/// What a template sees (absent values are left out, so `{{#name}}...{{/name}}` shows a line only
/// when there is something to show): `jobId`, `jobIdShort`, `jobType`, `status`, `message`,
/// `exitCode`, `reason`, `attemptCount` (more than one), `attempts` (each earlier `attempt`,
/// `failure`, `message`, `endedAt`), `stages` (a group's jobs: `position`, `jobId`, `jobType`,
/// `status`, `message`), `memory`, `progress`, `results`, `owner`, `submittedAt`, `finishedAt`,
/// `duration`, `logTail`. In `text` and `subject` write `{{{name}}}` (no HTML escaping).
public struct CompletionTemplates: Sendable {
    public let subject: MustacheTemplate
    public let text: MustacheTemplate
    public let html: MustacheTemplate

    /// The built-in templates, with those of `folder` in their place.
    /// - Throws: when a template in the folder cannot be read or parsed (the notifier does not start).
    public static func load(folder: String?) throws -> CompletionTemplates {
        func template(_ name: String, _ builtIn: String) throws -> MustacheTemplate {
            if let folder {
                let path = folder + "/" + name + ".mustache"
                if FileManager.default.fileExists(atPath: path) {
                    return try MustacheTemplate(string: try String(contentsOfFile: path, encoding: .utf8))
                }
            }
            return try MustacheTemplate(string: builtIn)
        }
        return CompletionTemplates(
            subject: try template("subject", Self.builtInSubject), text: try template("text", Self.builtInText),
            html: try template("html", Self.builtInHTML))
    }

    static let builtInSubject = "[Conveyor] {{{jobType}}} job {{{jobIdShort}}} {{{status}}}"

    static let builtInText = """
        Your Conveyor job finished.

        Job:       {{{jobId}}}
        Type:      {{{jobType}}}
        Status:    {{{status}}}
        Message:   {{{message}}}
        {{#exitCode}}
        Exit code: {{{exitCode}}}
        {{/exitCode}}
        {{#reason}}
        Reason:    {{{reason}}}
        {{/reason}}
        {{#attemptCount}}
        Attempts:  {{{attemptCount}}}
        {{/attemptCount}}
        {{#memory}}
        Memory:    {{{memory}}}
        {{/memory}}
        {{#progress}}
        Progress:  {{{progress}}}
        {{/progress}}
        {{#results}}
        Results:   {{{results}}}
        {{/results}}
        Owner:     {{{owner}}}
        Submitted: {{{submittedAt}}}
        Finished:  {{{finishedAt}}}
        Duration:  {{{duration}}}
        {{#hasAttempts}}

        Earlier attempts:
        {{#attempts}}
          {{{attempt}}}. {{{failure}}}: {{{message}}} ({{{endedAt}}})
        {{/attempts}}
        {{/hasAttempts}}
        {{#hasStages}}

        Stages:
        {{#stages}}
          {{{position}}}. {{{jobType}}} {{{jobId}}} {{{status}}}: {{{message}}}
        {{/stages}}
        {{/hasStages}}

        Last lines of the log:
        {{{logTail}}}
        """

    static let builtInHTML = """
        <html><body>
        <p>Your Conveyor job finished.</p>
        <table>
        <tr><th align="left">Job</th><td><code>{{jobId}}</code></td></tr>
        <tr><th align="left">Type</th><td>{{jobType}}</td></tr>
        <tr><th align="left">Status</th><td><strong>{{status}}</strong></td></tr>
        <tr><th align="left">Message</th><td>{{message}}</td></tr>
        {{#exitCode}}<tr><th align="left">Exit code</th><td>{{exitCode}}</td></tr>{{/exitCode}}
        {{#reason}}<tr><th align="left">Reason</th><td>{{reason}}</td></tr>{{/reason}}
        {{#attemptCount}}<tr><th align="left">Attempts</th><td>{{attemptCount}}</td></tr>{{/attemptCount}}
        {{#memory}}<tr><th align="left">Memory</th><td>{{memory}}</td></tr>{{/memory}}
        {{#progress}}<tr><th align="left">Progress</th><td>{{progress}}</td></tr>{{/progress}}
        {{#results}}<tr><th align="left">Results</th><td>{{results}}</td></tr>{{/results}}
        <tr><th align="left">Owner</th><td>{{owner}}</td></tr>
        <tr><th align="left">Submitted</th><td>{{submittedAt}}</td></tr>
        <tr><th align="left">Finished</th><td>{{finishedAt}}</td></tr>
        <tr><th align="left">Duration</th><td>{{duration}}</td></tr>
        </table>
        {{#hasAttempts}}
        <p>Earlier attempts:</p>
        <ol>{{#attempts}}<li>{{failure}}: {{message}} ({{endedAt}})</li>{{/attempts}}</ol>
        {{/hasAttempts}}
        {{#hasStages}}
        <p>Stages:</p>
        <ol>{{#stages}}<li>{{jobType}} <code>{{jobId}}</code> <strong>{{status}}</strong>: {{message}}</li>{{/stages}}</ol>
        {{/hasStages}}
        <p>Last lines of the log:</p>
        <pre>{{logTail}}</pre>
        </body></html>
        """
}
