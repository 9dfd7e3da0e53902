// YAML read as the JSON it spells (config/yaml.h): scalar types, order,
// anchors, and the constructs that are refused.
#include "hcx/config/yaml.h"

#include <gtest/gtest.h>

#include "hcx/error.h"

namespace hcx::config {
namespace {

std::string yaml_error(const std::string& text) {
  try {
    parse_yaml(text, "f.yaml");
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "";
}

TEST(Yaml, ScalarsMapsAndSequences) {
  const auto j = parse_yaml(R"(
zeta: 1            # file order is kept
alpha: -2.5e-3
int: -4
real: 0.5
yes: yes           # YAML 1.1's booleans stay strings
on: off
t: True
f: false
n1: ~
n2: null
n3:
quoted: "12"
single: 'true'
str: !!str 3
words: hello world
dotted.key: [1, "a", [2]]
inline: {b: 1, a: 2}
anchor: &x [1, 2]
alias: *x
)",
                            "f.yaml");
  EXPECT_EQ(j.dump(),
            R"({"zeta":1,"alpha":-0.0025,"int":-4,"real":0.5,"yes":"yes","on":"off","t":true,"f":false,)"
            R"("n1":null,"n2":null,"n3":null,"quoted":"12","single":"true","str":"3","words":"hello world",)"
            R"("dotted.key":[1,"a",[2]],"inline":{"b":1,"a":2},"anchor":[1,2],"alias":[1,2]})");
}

TEST(Yaml, RefusedConstructsNameLineAndColumn) {
  EXPECT_EQ(yaml_error("a: 1\na: 2\n"), "f.yaml:2:1: invalid YAML: duplicate key \"a\"");
  EXPECT_EQ(yaml_error("? [1, 2]\n: 3\n"), "f.yaml:1:3: invalid YAML: a key must be a plain string");
  EXPECT_EQ(yaml_error("a: !!float 1\n"), "f.yaml:1:4: invalid YAML: tag tag:yaml.org,2002:float is not supported");
  EXPECT_EQ(yaml_error("a: [1,\n"), yaml_error("a: [1,\n"));  // deterministic
  EXPECT_EQ(yaml_error("a: [1,\n").substr(0, 21), "f.yaml:2:1: invalid Y");
  EXPECT_EQ(yaml_error("just a string\n"), "f.yaml: expected a mapping at the top");
  EXPECT_EQ(yaml_error(""), "f.yaml: expected a mapping at the top");
}

TEST(Yaml, YamlPathsByExtension) {
  EXPECT_TRUE(is_yaml_path("a/b.yaml"));
  EXPECT_TRUE(is_yaml_path("B.YML"));
  EXPECT_FALSE(is_yaml_path("a.json"));
  EXPECT_FALSE(is_yaml_path("yaml"));
}

}  // namespace
}  // namespace hcx::config
