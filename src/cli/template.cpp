#include "cli/template.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <vector>

namespace berth::cli {

// ---- syntax ----------------------------------------------------------------

struct Pipeline;

struct Operand {
  enum Kind { kDot, kField, kVariable, kLiteral, kFunction, kSub } kind = kDot;
  std::vector<std::string> chain;  // field names after the operand: .A.B
  std::string name;                // variable ($x) or function name
  Json literal;
  std::shared_ptr<Pipeline> sub;   // ( pipeline )
  std::string text;                // as written, for error messages
  int line = 1, col = 0;
};

struct Command {
  std::vector<Operand> operands;
};

struct Pipeline {
  std::vector<std::string> variables;  // $x := or $i, $e :=
  bool declare = false, assign = false;
  std::vector<Command> commands;
};

struct TemplateNode {
  enum Kind { kList, kText, kAction, kIf, kRange, kWith } kind = kList;
  std::string text;
  std::shared_ptr<Pipeline> pipe;
  std::vector<std::shared_ptr<TemplateNode>> children;       // list / then-branch
  std::vector<std::shared_ptr<TemplateNode>> else_children;  // else-branch
};

namespace {

using NodePtr = std::shared_ptr<TemplateNode>;

std::unexpected<Error> parse_error(int line, const std::string& what) {
  return fail("template: :" + std::to_string(line) + ": " + what);
}

struct Token {
  enum Kind { kField, kVariable, kIdent, kString, kNumber, kLParen, kRParen, kPipe, kDeclare, kAssign, kComma, kEnd } kind;
  std::string text;
  int col = 0;
};

Result<std::vector<Token>> tokenize(std::string_view s, int line, int base_col) {
  std::vector<Token> tokens;
  size_t i = 0;
  auto ident_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < s.size()) {
    char c = s[i];
    int col = base_col + static_cast<int>(i);
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    size_t start = i;
    if (c == '.' || c == '$') {
      // .A.B, ., $x, $x.A, $ — a chain of identifiers joined by dots.
      ++i;
      if (c == '$')
        while (i < s.size() && ident_char(s[i])) ++i;
      else
        while (i < s.size() && ident_char(s[i])) ++i;
      while (i + 1 < s.size() && s[i] == '.' && ident_char(s[i + 1])) {
        ++i;
        while (i < s.size() && ident_char(s[i])) ++i;
      }
      tokens.push_back({c == '.' ? Token::kField : Token::kVariable, std::string(s.substr(start, i - start)), col});
    } else if (c == '"' || c == '`') {
      ++i;
      std::string value;
      while (i < s.size() && s[i] != c) {
        if (c == '"' && s[i] == '\\' && i + 1 < s.size()) {
          char e = s[++i];
          value += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        } else {
          value += s[i];
        }
        ++i;
      }
      if (i >= s.size()) return parse_error(line, "unterminated quoted string");
      ++i;
      tokens.push_back({Token::kString, value, col});
    } else if (std::isdigit(static_cast<unsigned char>(c)) || ((c == '-' || c == '+') && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      ++i;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == '_')) ++i;
      tokens.push_back({Token::kNumber, std::string(s.substr(start, i - start)), col});
    } else if (ident_char(c)) {
      while (i < s.size() && ident_char(s[i])) ++i;
      tokens.push_back({Token::kIdent, std::string(s.substr(start, i - start)), col});
    } else if (c == ':' && i + 1 < s.size() && s[i + 1] == '=') {
      i += 2;
      tokens.push_back({Token::kDeclare, ":=", col});
    } else {
      Token::Kind kind = c == '(' ? Token::kLParen : c == ')' ? Token::kRParen : c == '|' ? Token::kPipe : c == '=' ? Token::kAssign
                         : c == ',' ? Token::kComma : Token::kEnd;
      if (kind == Token::kEnd) return parse_error(line, std::string("unexpected \"") + c + "\" in command");
      ++i;
      tokens.push_back({kind, std::string(1, c), col});
    }
  }
  tokens.push_back({Token::kEnd, "", base_col + static_cast<int>(s.size())});
  return tokens;
}

std::vector<std::string> split_chain(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < text.size()) {
    size_t dot = text.find('.', start);
    if (dot == std::string_view::npos) dot = text.size();
    if (dot > start) parts.emplace_back(text.substr(start, dot - start));
    start = dot + 1;
  }
  return parts;
}

const std::map<std::string, int>& function_names();

class PipelineParser {
 public:
  PipelineParser(std::vector<Token> tokens, int line) : tokens_(std::move(tokens)), line_(line) {}

  Result<std::shared_ptr<Pipeline>> parse_full() {
    auto pipe = TRY(pipeline(true));
    if (peek().kind != Token::kEnd) return parse_error(line_, "unexpected \"" + peek().text + "\" in command");
    return pipe;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_++]; }

  Result<std::shared_ptr<Pipeline>> pipeline(bool allow_decl) {
    auto pipe = std::make_shared<Pipeline>();
    if (allow_decl && peek().kind == Token::kVariable) {
      size_t save = pos_;
      std::vector<std::string> vars{next().text};
      if (peek().kind == Token::kComma) {
        next();
        if (peek().kind == Token::kVariable) vars.push_back(next().text);
      }
      if (peek().kind == Token::kDeclare || peek().kind == Token::kAssign) {
        (next().kind == Token::kDeclare ? pipe->declare : pipe->assign) = true;
        pipe->variables = vars;
      } else {
        pos_ = save;
      }
    }
    for (;;) {
      Command command;
      while (peek().kind != Token::kPipe && peek().kind != Token::kEnd && peek().kind != Token::kRParen)
        command.operands.push_back(TRY(operand()));
      if (command.operands.empty()) return parse_error(line_, "missing value for command");
      pipe->commands.push_back(std::move(command));
      if (peek().kind != Token::kPipe) break;
      next();
    }
    return pipe;
  }

  Result<Operand> operand() {
    const Token& t = next();
    Operand op;
    op.text = t.text;
    op.line = line_;
    op.col = t.col;
    switch (t.kind) {
      case Token::kField:
        op.kind = t.text == "." ? Operand::kDot : Operand::kField;
        op.chain = split_chain(t.text);
        return op;
      case Token::kVariable: {
        op.kind = Operand::kVariable;
        auto dot = t.text.find('.');
        op.name = t.text.substr(0, dot);
        if (dot != std::string::npos) op.chain = split_chain(t.text.substr(dot));
        return op;
      }
      case Token::kString:
        op.kind = Operand::kLiteral;
        op.literal = t.text;
        return op;
      case Token::kNumber: {
        op.kind = Operand::kLiteral;
        try {
          size_t used = 0;
          if (t.text.find_first_of(".eE") == std::string::npos) {
            op.literal = std::stoll(t.text, &used, 0);
          } else {
            op.literal = std::stod(t.text, &used);
          }
          if (used != t.text.size()) throw std::invalid_argument(t.text);
        } catch (const std::exception&) {
          return parse_error(line_, "bad number syntax: \"" + t.text + "\"");
        }
        return op;
      }
      case Token::kIdent:
        if (t.text == "true" || t.text == "false") {
          op.kind = Operand::kLiteral;
          op.literal = t.text == "true";
        } else if (t.text == "nil") {
          op.kind = Operand::kLiteral;
        } else if (function_names().contains(t.text)) {
          op.kind = Operand::kFunction;
          op.name = t.text;
        } else {
          return parse_error(line_, "function \"" + t.text + "\" not defined");
        }
        return op;
      case Token::kLParen: {
        op.kind = Operand::kSub;
        op.sub = TRY(pipeline(false));
        if (next().kind != Token::kRParen) return parse_error(line_, "unclosed left paren");
        if (peek().kind == Token::kField && peek().text != ".") op.chain = split_chain(next().text);
        return op;
      }
      default:
        return parse_error(line_, "unexpected \"" + t.text + "\" in operand");
    }
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int line_;
};

// One "{{ … }}" or the text between them.
struct Segment {
  bool action = false;
  std::string text;
  int line = 1, col = 0;
};

Result<std::vector<Segment>> split_segments(std::string_view text) {
  std::vector<Segment> segments;
  size_t pos = 0;
  int line = 1;
  size_t line_start = 0;
  auto advance_lines = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i)
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
  };
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      segments.push_back({false, std::string(text.substr(pos)), line, 0});
      break;
    }
    size_t inner = open + 2;
    bool trim_left = inner + 1 < text.size() && text[inner] == '-' && std::isspace(static_cast<unsigned char>(text[inner + 1]));
    std::string before(text.substr(pos, open - pos));
    if (trim_left) before.erase(before.find_last_not_of(" \t\r\n") + 1);
    if (!before.empty()) segments.push_back({false, before, line, 0});
    advance_lines(pos, open);
    if (trim_left) inner += 2;
    size_t close = text.find("}}", inner);
    if (close == std::string_view::npos) return parse_error(line, "unclosed action");
    size_t content_end = close;
    bool trim_right = close >= 2 && text[close - 1] == '-' && std::isspace(static_cast<unsigned char>(text[close - 2])) && close - 1 >= inner;
    if (trim_right) content_end = close - 2;
    std::string content(text.substr(inner, content_end - inner));
    int col = static_cast<int>(inner - line_start);
    pos = close + 2;
    if (trim_right)
      while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) advance_lines(pos, pos + 1), ++pos;
    // Comments: {{/* … */}}
    std::string_view trimmed = content;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
    if (!trimmed.starts_with("/*")) segments.push_back({true, content, line, col});
    advance_lines(inner, close);
  }
  return segments;
}

class TreeParser {
 public:
  explicit TreeParser(std::vector<Segment> segments) : segments_(std::move(segments)) {}

  Result<NodePtr> parse() {
    auto root = std::make_shared<TemplateNode>();
    auto end = TRY(list(root->children));
    if (!end.empty()) return parse_error(last_line_, "unexpected {{" + end + "}}");
    return root;
  }

 private:
  // Parses nodes until {{end}} or {{else…}}; returns which ended it ("" at EOF).
  Result<std::string> list(std::vector<NodePtr>& out) {
    while (pos_ < segments_.size()) {
      const Segment& seg = segments_[pos_++];
      last_line_ = seg.line;
      if (!seg.action) {
        auto node = std::make_shared<TemplateNode>();
        node->kind = TemplateNode::kText;
        node->text = seg.text;
        out.push_back(node);
        continue;
      }
      auto tokens = TRY(tokenize(seg.text, seg.line, seg.col));
      if (tokens.front().kind == Token::kIdent) {
        const std::string& word = tokens.front().text;
        if (word == "end") return std::string("end");
        if (word == "else") {
          pending_else_ = std::vector<Token>(tokens.begin() + 1, tokens.end());
          return std::string("else");
        }
        if (word == "if" || word == "range" || word == "with") {
          out.push_back(TRY(control(word, std::vector<Token>(tokens.begin() + 1, tokens.end()), seg.line)));
          continue;
        }
        if (word == "define" || word == "template" || word == "block" || word == "break" || word == "continue")
          return parse_error(seg.line, "\"" + word + "\" is not supported");
      }
      auto node = std::make_shared<TemplateNode>();
      node->kind = TemplateNode::kAction;
      node->pipe = TRY(PipelineParser(tokens, seg.line).parse_full());
      out.push_back(node);
    }
    return std::string();
  }

  Result<NodePtr> control(const std::string& word, std::vector<Token> tokens, int line) {
    auto node = std::make_shared<TemplateNode>();
    node->kind = word == "if" ? TemplateNode::kIf : word == "range" ? TemplateNode::kRange : TemplateNode::kWith;
    if (tokens.size() <= 1) return parse_error(line, "missing value for " + word);
    node->pipe = TRY(PipelineParser(tokens, line).parse_full());
    auto end = TRY(list(node->children));
    if (end == "else") {
      auto rest = pending_else_;
      if (rest.size() > 1 && rest.front().kind == Token::kIdent && (rest.front().text == "if" || rest.front().text == "with")) {
        // {{else if …}}: a nested control that shares our {{end}}.
        node->else_children.push_back(TRY(control(rest.front().text, std::vector<Token>(rest.begin() + 1, rest.end()), line)));
        return node;
      }
      end = TRY(list(node->else_children));
    }
    if (end != "end") return parse_error(line, "unexpected EOF");
    return node;
  }

  std::vector<Segment> segments_;
  size_t pos_ = 0;
  int last_line_ = 1;
  std::vector<Token> pending_else_;
};

// ---- evaluation --------------------------------------------------------------

bool truthy(const Json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>() != 0;
  if (v.is_number_float()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return !v.empty();
}

std::string number_text(const Json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  double d = v.get<double>();
  if (std::floor(d) == d && std::fabs(d) < 1e21) return std::to_string(static_cast<int64_t>(d));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

int compare(const Json& a, const Json& b, const std::string& fn) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) return a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
  if (fn == "eq" || fn == "ne") return a == b ? 0 : 1;
  throw std::runtime_error("error calling " + fn + ": incompatible types for comparison");
}

std::string go_quote(const std::string& s) { return Json(s).dump(); }

std::string sprintf_go(const std::string& format, const std::vector<Json>& args) {
  std::string out;
  size_t next_arg = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    size_t start = i++;
    while (i < format.size() && std::strchr("-+# 0", format[i])) ++i;
    while (i < format.size() && (std::isdigit(static_cast<unsigned char>(format[i])) || format[i] == '.')) ++i;
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = format[i];
    if (verb == '%') {
      out += '%';
      continue;
    }
    std::string spec = format.substr(start, i - start);
    if (next_arg >= args.size()) {
      out += std::string("%!") + verb + "(MISSING)";
      continue;
    }
    const Json& arg = args[next_arg++];
    char buf[512];
    switch (verb) {
      case 'd':
        if (!arg.is_number()) {
          out += "%!d(" + go_text(arg) + ")";
          break;
        }
        std::snprintf(buf, sizeof buf, (spec + "lld").c_str(), static_cast<long long>(arg.get<double>()));
        out += buf;
        break;
      case 'f':
      case 'g':
      case 'e':
        std::snprintf(buf, sizeof buf, (spec + verb).c_str(), arg.is_number() ? arg.get<double>() : 0.0);
        out += buf;
        break;
      case 'x':
        if (arg.is_number_integer()) {
          std::snprintf(buf, sizeof buf, (spec + "llx").c_str(), static_cast<long long>(arg.get<int64_t>()));
          out += buf;
        } else {
          for (unsigned char c : go_text(arg)) {
            std::snprintf(buf, sizeof buf, "%02x", c);
            out += buf;
          }
        }
        break;
      case 'q':
        std::snprintf(buf, sizeof buf, (spec + "s").c_str(), go_quote(go_text(arg)).c_str());
        out += buf;
        break;
      case 't':
      case 's':
      case 'v':
      default: {
        std::string text = go_text(arg);
        std::snprintf(buf, sizeof buf, (spec + "s").c_str(), text.c_str());
        out += text.size() >= sizeof buf - 1 ? text : std::string(buf);
      }
    }
  }
  return out;
}

std::string title_case(std::string s) {
  bool start = true;
  for (char& c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      start = true;
    } else if (start) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      start = false;
    }
  }
  return s;
}

using Function = std::function<Json(const std::vector<Json>&)>;

void want_args(const std::string& fn, const std::vector<Json>& args, size_t n) {
  if (args.size() != n)
    throw std::runtime_error("wrong number of args for " + fn + ": want " + std::to_string(n) + " got " + std::to_string(args.size()));
}

std::string as_string(const std::string& fn, const Json& v) {
  if (!v.is_string()) throw std::runtime_error("error calling " + fn + ": expected a string, got " + go_text(v));
  return v.get<std::string>();
}

const std::map<std::string, Function>& functions() {
  static const std::map<std::string, Function> table = {
      {"json", [](const auto& a) { want_args("json", a, 1); return Json(a[0].dump()); }},
      {"len", [](const auto& a) {
         want_args("len", a, 1);
         if (a[0].is_string()) return Json(a[0].template get_ref<const std::string&>().size());
         if (a[0].is_array() || a[0].is_object()) return Json(a[0].size());
         throw std::runtime_error("error calling len: len of type " + std::string(a[0].type_name()));
       }},
      {"index", [](const auto& a) {
         if (a.empty()) throw std::runtime_error("wrong number of args for index: want at least 1 got 0");
         Json v = a[0];
         for (size_t i = 1; i < a.size(); ++i) {
           if (v.is_array() && a[i].is_number_integer()) {
             auto k = a[i].template get<int64_t>();
             if (k < 0 || static_cast<size_t>(k) >= v.size()) throw std::runtime_error("error calling index: index out of range: " + std::to_string(k));
             v = v[static_cast<size_t>(k)];
           } else if (v.is_object() && a[i].is_string()) {
             auto it = v.find(a[i].template get<std::string>());
             v = it == v.end() ? Json() : *it;
           } else if (v.is_null()) {
             return Json();
           } else {
             throw std::runtime_error("error calling index: cannot index " + std::string(v.type_name()) + " with " + go_text(a[i]));
           }
         }
         return v;
       }},
      {"printf", [](const auto& a) {
         if (a.empty()) throw std::runtime_error("wrong number of args for printf: want at least 1 got 0");
         return Json(sprintf_go(as_string("printf", a[0]), std::vector<Json>(a.begin() + 1, a.end())));
       }},
      {"print", [](const auto& a) {
         std::string out;
         for (size_t i = 0; i < a.size(); ++i) {
           if (i > 0 && !a[i].is_string() && !a[i - 1].is_string()) out += ' ';
           out += go_text(a[i]);
         }
         return Json(out);
       }},
      {"println", [](const auto& a) {
         std::string out;
         for (size_t i = 0; i < a.size(); ++i) out += (i ? " " : "") + go_text(a[i]);
         return Json(out + "\n");
       }},
      {"join", [](const auto& a) {
         want_args("join", a, 2);
         if (!a[0].is_array()) throw std::runtime_error("error calling join: expected a list, got " + go_text(a[0]));
         std::string out, sep = as_string("join", a[1]);
         for (size_t i = 0; i < a[0].size(); ++i) out += (i ? sep : "") + go_text(a[0][i]);
         return Json(out);
       }},
      {"split", [](const auto& a) {
         want_args("split", a, 2);
         std::string s = as_string("split", a[0]), sep = as_string("split", a[1]);
         Json out = Json::array();
         if (sep.empty()) {
           for (char c : s) out.push_back(std::string(1, c));
           return out;
         }
         size_t start = 0;
         for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size()) out.push_back(s.substr(start, at - start));
         out.push_back(s.substr(start));
         return out;
       }},
      {"lower", [](const auto& a) {
         want_args("lower", a, 1);
         std::string s = as_string("lower", a[0]);
         std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::tolower(c); });
         return Json(s);
       }},
      {"upper", [](const auto& a) {
         want_args("upper", a, 1);
         std::string s = as_string("upper", a[0]);
         std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::toupper(c); });
         return Json(s);
       }},
      {"title", [](const auto& a) { want_args("title", a, 1); return Json(title_case(as_string("title", a[0]))); }},
      {"truncate", [](const auto& a) {
         want_args("truncate", a, 2);
         std::string s = as_string("truncate", a[0]);
         auto n = a[1].template get<int64_t>();
         return Json(n >= 0 && static_cast<size_t>(n) < s.size() ? s.substr(0, static_cast<size_t>(n)) : s);
       }},
      {"pad", [](const auto& a) {
         want_args("pad", a, 3);
         return Json(std::string(static_cast<size_t>(std::max<int64_t>(0, a[1].template get<int64_t>())), ' ') + as_string("pad", a[0]) +
                     std::string(static_cast<size_t>(std::max<int64_t>(0, a[2].template get<int64_t>())), ' '));
       }},
      {"not", [](const auto& a) { want_args("not", a, 1); return Json(!truthy(a[0])); }},
      {"and", [](const auto& a) {
         for (const auto& v : a)
           if (!truthy(v)) return v;
         return a.empty() ? Json() : a.back();
       }},
      {"or", [](const auto& a) {
         for (const auto& v : a)
           if (truthy(v)) return v;
         return a.empty() ? Json() : a.back();
       }},
      {"eq", [](const auto& a) {
         if (a.size() < 2) throw std::runtime_error("missing argument for comparison");
         for (size_t i = 1; i < a.size(); ++i)
           if (compare(a[0], a[i], "eq") == 0) return Json(true);
         return Json(false);
       }},
      {"ne", [](const auto& a) { want_args("ne", a, 2); return Json(compare(a[0], a[1], "ne") != 0); }},
      {"lt", [](const auto& a) { want_args("lt", a, 2); return Json(compare(a[0], a[1], "lt") < 0); }},
      {"le", [](const auto& a) { want_args("le", a, 2); return Json(compare(a[0], a[1], "le") <= 0); }},
      {"gt", [](const auto& a) { want_args("gt", a, 2); return Json(compare(a[0], a[1], "gt") > 0); }},
      {"ge", [](const auto& a) { want_args("ge", a, 2); return Json(compare(a[0], a[1], "ge") >= 0); }},
  };
  return table;
}

const std::map<std::string, int>& function_names() {
  static const std::map<std::string, int> names = [] {
    std::map<std::string, int> out;
    for (const auto& [name, fn] : functions()) out[name] = 0;
    return out;
  }();
  return names;
}

struct ExecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Executor {
 public:
  explicit Executor(const Json& root) { vars_.push_back({"$", root}); }

  void run(const std::vector<NodePtr>& nodes, const Json& dot, std::string& out) {
    for (const auto& node : nodes) run(*node, dot, out);
  }

 private:
  void run(const TemplateNode& node, const Json& dot, std::string& out) {
    switch (node.kind) {
      case TemplateNode::kList:
        run(node.children, dot, out);
        break;
      case TemplateNode::kText:
        out += node.text;
        break;
      case TemplateNode::kAction: {
        Json value = pipeline(*node.pipe, dot);
        if (node.pipe->variables.empty()) out += value.is_null() ? "<no value>" : go_text(value);
        break;
      }
      case TemplateNode::kIf:
      case TemplateNode::kWith: {
        size_t mark = vars_.size();
        Json value = pipeline(*node.pipe, dot);
        if (truthy(value))
          run(node.children, node.kind == TemplateNode::kWith ? value : dot, out);
        else
          run(node.else_children, dot, out);
        vars_.resize(mark);
        break;
      }
      case TemplateNode::kRange: {
        size_t mark = vars_.size();
        auto decl = node.pipe->variables;
        Pipeline plain = *node.pipe;
        plain.variables.clear();
        Json value = pipeline(plain, dot);
        if (!truthy(value)) {
          run(node.else_children, dot, out);
          break;
        }
        if (!value.is_array() && !value.is_object()) throw ExecError("range can't iterate over " + go_text(value));
        size_t index = 0;
        for (auto it = value.begin(); it != value.end(); ++it, ++index) {
          Json key = value.is_array() ? Json(index) : Json(it.key());
          if (decl.size() == 1) vars_.push_back({decl[0], *it});
          if (decl.size() == 2) {
            vars_.push_back({decl[0], key});
            vars_.push_back({decl[1], *it});
          }
          run(node.children, *it, out);
          vars_.resize(mark);
        }
        break;
      }
    }
  }

  Json pipeline(const Pipeline& pipe, const Json& dot) {
    Json value;
    bool have = false;
    for (const auto& command : pipe.commands) {
      value = this->command(command, dot, have ? &value : nullptr);
      have = true;
    }
    if (pipe.declare) {
      for (const auto& name : pipe.variables) vars_.push_back({name, value});
    } else if (pipe.assign) {
      for (const auto& name : pipe.variables) variable(name) = value;
    }
    return value;
  }

  Json command(const Command& command, const Json& dot, const Json* piped) {
    const Operand& first = command.operands.front();
    if (first.kind == Operand::kFunction) {
      std::vector<Json> args;
      for (size_t i = 1; i < command.operands.size(); ++i) args.push_back(operand(command.operands[i], dot));
      if (piped) args.push_back(*piped);
      try {
        return functions().at(first.name)(args);
      } catch (const ExecError&) {
        throw;
      } catch (const std::exception& e) {
        throw ExecError(at(first, e.what()));
      }
    }
    if (command.operands.size() > 1 || piped) throw ExecError(at(first, "can't give argument to non-function " + first.text));
    return operand(first, dot);
  }

  Json operand(const Operand& op, const Json& dot) {
    switch (op.kind) {
      case Operand::kDot:
        return dot;
      case Operand::kLiteral:
        return op.literal;
      case Operand::kField:
        return fields(op, dot, op.chain);
      case Operand::kVariable:
        return fields(op, variable(op.name), op.chain);
      case Operand::kSub:
        return fields(op, pipeline(*op.sub, dot), op.chain);
      case Operand::kFunction:
        try {
          return functions().at(op.name)({});
        } catch (const std::exception& e) {
          throw ExecError(at(op, e.what()));
        }
    }
    return Json();
  }

  Json fields(const Operand& op, Json value, const std::vector<std::string>& chain) {
    for (const auto& name : chain) {
      if (value.is_object()) {
        auto it = value.find(name);
        if (it == value.end()) throw ExecError(at(op, "map has no entry for key \"" + name + "\""));
        value = *it;
      } else if (value.is_null()) {
        throw ExecError(at(op, "nil pointer evaluating interface {}." + name));
      } else {
        throw ExecError(at(op, "can't evaluate field " + name + " in type " + value.type_name()));
      }
    }
    return value;
  }

  Json& variable(const std::string& name) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
      if (it->first == name) return it->second;
    throw ExecError("undefined variable: " + name);
  }

  static std::string at(const Operand& op, const std::string& what) {
    return "template: :" + std::to_string(op.line) + ":" + std::to_string(op.col) + ": executing \"\" at <" + op.text + ">: " + what;
  }

  std::vector<std::pair<std::string, Json>> vars_;
};

}  // namespace

std::string go_text(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return value.get<std::string>();
    case Json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case Json::value_t::null:
      return "<nil>";
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.size(); ++i) out += (i ? " " : "") + go_text(value[i]);
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, v] : value.items()) {
        out += (first ? "" : " ") + k + ":" + go_text(v);
        first = false;
      }
      return out + "]";
    }
    default:
      return number_text(value);
  }
}

Result<Template> Template::parse(std::string_view text) {
  auto segments = TRY(split_segments(text));
  Template t;
  t.root_ = TRY(TreeParser(std::move(segments)).parse());
  return t;
}

Result<std::string> Template::execute(const Json& data) const {
  std::string out;
  try {
    Executor(data).run(root_->children, data, out);
  } catch (const ExecError& e) {
    return fail(e.what());
  } catch (const std::exception& e) {
    return fail(std::string("template: ") + e.what());
  }
  return out;
}

}  // namespace berth::cli
