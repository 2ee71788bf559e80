// The differential oracle: runs the real Lucene parsers on dictionary files the way OpenSearch
// loads them, and prints one verdict line per file. Built and run by `make oracle` (see
// tests/oracle/run_oracle.py); never needed by `make test`.
//
// Input: a manifest file, one "KIND<TAB>PATH" line per dictionary file, KIND being one of
// synonyms, stopwords, kuromoji, nori. Output (stdout): one line per manifest line,
// "PATH<TAB>FIELD[<TAB>FIELD]", each FIELD "accept" or "reject:<exception message>", with
// backslash, tab, CR and LF escaped as \\, \t, \r, \n. Synonym files get two fields (the
// standard tokenizer's verdict, then the whitespace tokenizer's); the others get one.
//
// A second mode, "standard-tokens", prints which code points the standard tokenizer turns into
// a token on their own, and which need a following variation selector or keycap mark; the
// library keeps those ranges in a generated table (checks/standard_tokens.py).

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.ja.util.CSVUtil;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.synonym.SolrSynonymParser;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;

public final class LuceneOracle {

    /** The analyzer OpenSearch builds for a synonym filter after a bare tokenizer (no filters). */
    private static Analyzer tokenizerOnly(boolean standard) {
        return new Analyzer() {
            @Override
            protected TokenStreamComponents createComponents(String fieldName) {
                Tokenizer tokenizer = standard ? new StandardTokenizer() : new WhitespaceTokenizer();
                return new TokenStreamComponents(tokenizer);
            }
        };
    }

    private static final Analyzer STANDARD = tokenizerOnly(true);
    private static final Analyzer WHITESPACE = tokenizerOnly(false);

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("standard-tokens")) {
            standardTokens();
            return;
        }
        if (args.length != 1) {
            System.err.println("usage: LuceneOracle MANIFEST | LuceneOracle standard-tokens");
            System.exit(2);
        }
        StringBuilder out = new StringBuilder();
        for (String line : Files.readAllLines(Paths.get(args[0]), StandardCharsets.UTF_8)) {
            if (line.isEmpty()) {
                continue;
            }
            int tab = line.indexOf('\t');
            String kind = line.substring(0, tab);
            Path path = Paths.get(line.substring(tab + 1));
            out.append(escape(path.toString()));
            switch (kind) {
                case "synonyms":
                    out.append('\t').append(synonyms(path, STANDARD));
                    out.append('\t').append(synonyms(path, WHITESPACE));
                    break;
                case "stopwords":
                    out.append('\t').append(stopWords(path));
                    break;
                case "kuromoji":
                    out.append('\t').append(kuromoji(path));
                    break;
                case "nori":
                    out.append('\t').append(nori(path));
                    break;
                default:
                    throw new IllegalArgumentException("unknown kind " + kind);
            }
            out.append('\n');
        }
        System.out.print(out);
    }

    private static String verdict(Throwable error) {
        if (error == null) {
            return "accept";
        }
        // The innermost cause names the rule (SolrSynonymParser wraps it in a ParseException).
        Throwable cause = error;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        String message = cause.getClass().getSimpleName() + ": " + cause.getMessage();
        if (cause != error) {
            message = error.getMessage() + " <- " + message;
        }
        return "reject:" + escape(message);
    }

    private static String escape(String text) {
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n");
    }

    // synonyms_path: Analysis.getReaderFromFile (a UTF-8 reader that reports malformed input),
    // then OpenSearchSolrSynonymParser(dedup=true, expand=true, lenient=false), then build().
    private static String synonyms(Path path, Analyzer analyzer) {
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            SolrSynonymParser parser = new SolrSynonymParser(true, true, analyzer);
            parser.parse(reader);
            parser.build();
            return verdict(null);
        } catch (Exception | Error error) {
            return verdict(error);
        }
    }

    // Analysis.loadWordList: lines without text (Strings.hasText) are skipped, the rest trimmed.
    private static List<String> loadWordList(Path path) throws IOException {
        List<String> result = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            String word;
            while ((word = reader.readLine()) != null) {
                if (!hasText(word)) {
                    continue;
                }
                result.add(word.trim());
            }
        }
        return result;
    }

    // org.opensearch.core.common.Strings.hasText
    private static boolean hasText(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (!Character.isWhitespace(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    // Analysis.parseWordList(..., removeComments=true): a trimmed line starting with '#' is a
    // comment; every other line goes through the plugin's rule parser, whose RuntimeException
    // becomes "Line [N]: ...".
    private interface RuleParser {
        String apply(String rule);
    }

    private static List<String> parseWordList(Path path, RuleParser parser) throws IOException {
        List<String> rules = new ArrayList<>();
        int lineNumber = 0;
        for (String word : loadWordList(path)) {
            lineNumber++;
            if (!word.startsWith("#")) {
                try {
                    rules.add(parser.apply(word));
                } catch (RuntimeException error) {
                    throw new RuntimeException("Line [" + lineNumber + "]: " + error.getMessage());
                }
            }
        }
        return rules;
    }

    private static String stopWords(Path path) {
        try {
            List<String> words = parseWordList(path, rule -> rule);
            return verdict(null) + ":" + words.size();
        } catch (Exception | Error error) {
            return verdict(error);
        }
    }

    private static String joinLines(List<String> rules) {
        StringBuilder text = new StringBuilder();
        for (String rule : rules) {
            text.append(rule).append(System.lineSeparator());
        }
        return text.toString();
    }

    // KuromojiTokenizerFactory.getUserDictionary: parseWordList with a parser that rejects
    // malformed CSV and duplicate surface forms, then UserDictionary.open on the kept lines.
    private static String kuromoji(Path path) {
        try {
            Set<String> seen = new HashSet<>();
            List<String> rules = parseWordList(path, rule -> {
                String[] values = CSVUtil.parse(rule);
                if (values.length == 0) {
                    throw new IllegalArgumentException("Malformed csv in user dictionary.");
                }
                if (!seen.add(values[0])) {
                    throw new IllegalArgumentException("Found duplicate term [" + values[0] + "] in user dictionary.");
                }
                return rule;
            });
            if (!rules.isEmpty()) {
                org.apache.lucene.analysis.ja.dict.UserDictionary.open(new StringReader(joinLines(rules)));
            }
            return verdict(null);
        } catch (Exception | Error error) {
            return verdict(error);
        }
    }

    // NoriTokenizerFactory.getUserDictionary: parseWordList, then UserDictionary.open.
    private static String nori(Path path) {
        try {
            List<String> rules = parseWordList(path, rule -> rule);
            if (!rules.isEmpty()) {
                org.apache.lucene.analysis.ko.dict.UserDictionary.open(new StringReader(joinLines(rules)));
            }
            return verdict(null);
        } catch (Exception | Error error) {
            return verdict(error);
        }
    }

    private static boolean hasToken(String text) throws IOException {
        try (TokenStream stream = STANDARD.tokenStream("", text)) {
            stream.addAttribute(CharTermAttribute.class);
            stream.reset();
            boolean any = stream.incrementToken();
            while (stream.incrementToken()) {
                // drain
            }
            stream.end();
            return any;
        }
    }

    // One line per class: NAME<TAB>start-end,start-end,... (hex code points, inclusive).
    private static void standardTokens() throws IOException {
        String[][] classes = {
            {"alone", ""},
            {"before_fe0f", "\uFE0F"},
            {"before_20e3", "\u20E3"},
            {"before_fe0f_20e3", "\uFE0F\u20E3"},
        };
        StringBuilder out = new StringBuilder();
        boolean[] alone = new boolean[Character.MAX_CODE_POINT + 1];
        for (String[] spec : classes) {
            List<int[]> ranges = new ArrayList<>();
            for (int code = 0; code <= Character.MAX_CODE_POINT; code++) {
                boolean member;
                if (code >= 0xD800 && code <= 0xDFFF) {
                    member = false;
                } else if (spec[1].isEmpty()) {
                    member = hasToken(new String(Character.toChars(code)));
                    alone[code] = member;
                } else {
                    member = !alone[code] && hasToken(new String(Character.toChars(code)) + spec[1]);
                }
                if (member) {
                    if (!ranges.isEmpty() && ranges.get(ranges.size() - 1)[1] == code - 1) {
                        ranges.get(ranges.size() - 1)[1] = code;
                    } else {
                        ranges.add(new int[] {code, code});
                    }
                }
            }
            out.append(spec[0]).append('\t');
            for (int i = 0; i < ranges.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(Integer.toHexString(ranges.get(i)[0])).append('-').append(Integer.toHexString(ranges.get(i)[1]));
            }
            out.append('\n');
        }
        String flag = new String(Character.toChars(0x1F1EF));
        out.append("regional_pair\t").append(!hasToken(flag) && hasToken(flag + flag)).append('\n');
        System.out.print(out);
    }
}
