// Recipes: every example parses; defaults are the contract's; errors name the key path and
// line:column (or the --set that caused them) and suggest the key a typo meant; --set
// overrides; the resolved recipe round-trips through YAML; eval.subgroups refuses identifying
// keys when read.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "core/errors.h"
#include "recipes/recipe_parser.h"

namespace cxr {
namespace {

std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  try {
    parse_recipe_text(yaml, "r.yaml", sets);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(Recipe, ExamplesParse) {
  for (const char* name : {"demo.yaml", "kermany-resnet50.yaml", "chestxray14-multilabel.yaml", "ci-smoke.yaml",
                           "nih-chestxray14.yaml", "chexpert.yaml", "mimic-cxr-jpg.yaml", "rsna-pneumonia.yaml"}) {
    SCOPED_TRACE(name);
    const Recipe r = parse_recipe_file(std::string(CXRTUNE_SOURCE_DIR) + "/recipes/" + name);
    EXPECT_FALSE(r.model.arch.empty());
  }
}

// Comments are what users read first: every example recipe in recipes/ parses, and its comments
// cite no work item (an "issue 4" means nothing to a user and goes stale when it is done).
TEST(Recipe, EveryExampleParsesAndItsCommentsCiteNoWorkItem) {
  const std::regex work_item("\\bissue\\s*#?[0-9]+", std::regex::icase);
  int examples = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(CXRTUNE_SOURCE_DIR) + "/recipes")) {
    if (e.path().extension() != ".yaml") continue;
    SCOPED_TRACE(e.path().filename().string());
    ++examples;
    EXPECT_NO_THROW(parse_recipe_file(e.path().string()));
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);)
      if (line.find('#') != std::string::npos) {
        EXPECT_FALSE(std::regex_search(line, work_item)) << line;
      }
  }
  EXPECT_GE(examples, 4);
}

// The dataset-layout keys: parsed, defaulted, round-tripped, and refused with file:line:col.
TEST(Recipe, DatasetLayoutKeys) {
  const Recipe r = parse_recipe_text(
      "data:\n  format: chexpert\n  train: CheXpert-v1.0-small/train.csv\n  images: data\n"
      "  labels: [Edema, Pleural Effusion]\n  uncertain: ones\n  views: [PA, AP]\n", "r.yaml");
  EXPECT_EQ(r.data.format, "chexpert");
  EXPECT_EQ(r.data.images, std::optional<std::string>("data"));
  EXPECT_EQ(r.data.labels, (std::vector<std::string>{"Edema", "Pleural Effusion"}));
  EXPECT_EQ(r.data.uncertain, "ones");
  EXPECT_EQ(r.data.views, (std::vector<std::string>{"PA", "AP"}));
  const Recipe back = parse_recipe_text(recipe_to_yaml(r), "back.yaml");
  EXPECT_EQ(recipe_to_yaml(back), recipe_to_yaml(r));
  EXPECT_EQ(back.data.labels, r.data.labels);
  const Recipe d = parse_recipe_text("", "empty.yaml");
  EXPECT_EQ(d.data.format, "");
  EXPECT_EQ(d.data.uncertain, "ignore");
  EXPECT_FALSE(d.data.images);
  EXPECT_EQ(parse_recipe_text(recipe_to_yaml(d), "d.yaml").data.format, "");
  EXPECT_EQ(error_of("data:\n  format: nhi\n"),
            "r.yaml:2:11: data.format: 'nhi' is not one of folder, manifest, nih, chexpert, mimic-cxr-jpg, rsna-pneumonia");
  EXPECT_EQ(error_of("data:\n  uncertain: u-ones\n"), "r.yaml:2:14: data.uncertain: 'u-ones' is not one of ignore, ones, zeros");
  EXPECT_EQ(error_of("data:\n  views: PA\n"), "r.yaml:2:10: data.views: expected a list");
  EXPECT_EQ(error_of("", {"data.labels=Edema"}), "--set data.labels=Edema: data.labels: expected a list");
}

TEST(Recipe, DefaultsAreTheContracts) {
  const Recipe r = parse_recipe_text("", "empty.yaml");
  EXPECT_EQ(r.model.arch, "resnet50");
  EXPECT_FALSE(r.model.weights.has_value());
  EXPECT_EQ(r.model.num_classes, 2);
  EXPECT_EQ(r.data.image_size, 224);
  EXPECT_EQ(r.train.epochs, 5);
  EXPECT_EQ(r.train.batch_size, 32);
  EXPECT_EQ(r.optimizer.name, "adam");
  EXPECT_DOUBLE_EQ(r.optimizer.lr, 1e-4);
  EXPECT_DOUBLE_EQ(r.optimizer.layer_decay, 1.0);
  EXPECT_EQ(r.schedule.name, "constant");
}

TEST(Recipe, ErrorsNameKeyAndLineColumn) {
  EXPECT_EQ(error_of("model:\n  arch: resnet18\noptimizer:\n  lr: fast\n"),
            "r.yaml:4:7: optimizer.lr: expected a number, got 'fast'");
  EXPECT_EQ(error_of("train:\n  epochs: 0\n"), "r.yaml:2:11: train.epochs: must be in 1..100000, got 0");
  EXPECT_EQ(error_of("optimizer:\n  name: lion\n"), "r.yaml:2:9: optimizer.name: 'lion' is not one of sgd, adam, adamw");
  EXPECT_EQ(error_of("optimizer:\n  layer_decy: 0.5\n"),
            "r.yaml:2:3: optimizer.layer_decy: unknown key (did you mean 'optimizer.layer_decay'?)");
  EXPECT_EQ(error_of("trian:\n  epochs: 1\n"), "r.yaml:1:1: trian: unknown key (did you mean 'train'?)");
  EXPECT_NE(error_of("model: [1, 2\n").find("r.yaml:"), std::string::npos);
  EXPECT_EQ(error_of("train:\n  checkpoint_every: often\n"),
            "r.yaml: train.checkpoint_every: expected 'epoch' or a number of steps >= 1, got 'often'");
}

TEST(Recipe, SetOverridesAndNamesItselfInErrors) {
  const Recipe r = parse_recipe_text("optimizer:\n  lr: 0.1\n", "r.yaml",
                                     {"optimizer.lr=0.001", "train.max_steps=7", "optimizer.freeze=[conv1, layer1]"});
  EXPECT_DOUBLE_EQ(r.optimizer.lr, 0.001);
  EXPECT_EQ(r.train.max_steps, 7);
  EXPECT_EQ(r.optimizer.freeze, (std::vector<std::string>{"conv1", "layer1"}));
  EXPECT_EQ(error_of("", {"optimizer.lr=fast"}), "--set optimizer.lr=fast: optimizer.lr: expected a number, got 'fast'");
  EXPECT_NE(error_of("", {"nonsense"}).find("expected key.path=value"), std::string::npos);
}

TEST(Recipe, ResolvedRecipeRoundTrips) {
  const Recipe a = parse_recipe_file(std::string(CXRTUNE_SOURCE_DIR) + "/recipes/demo.yaml",
                                     {"optimizer.stage_lr={fc: 2.0}", "loss.class_weights=[1.0, 3.5]"});
  const std::string yaml = recipe_to_yaml(a);
  const Recipe b = parse_recipe_text(yaml, "resolved.yaml");
  EXPECT_EQ(recipe_to_yaml(b), yaml);
  EXPECT_EQ(b.optimizer.stage_lr.at("fc"), 2.0);
  EXPECT_EQ(b.loss.class_weight_values, (std::vector<double>{1.0, 3.5}));
  EXPECT_EQ(b.data.train, a.data.train);
}

TEST(Recipe, EvalSubgroupsAreCheckedWhenTheRecipeIsRead) {
  const Recipe d = parse_recipe_text("", "r.yaml");
  EXPECT_TRUE(d.eval.subgroups.empty());
  EXPECT_EQ(d.eval.subgroup_min_size, 30);
  const Recipe r = parse_recipe_text("eval:\n  subgroups: [sex, age, View Position]\n  subgroup_min_size: 50\n",
                                     "r.yaml");
  EXPECT_EQ(r.eval.subgroups, (std::vector<std::string>{"sex", "age", "View Position"}));
  EXPECT_EQ(r.eval.subgroup_min_size, 50);
  const Recipe b = parse_recipe_text(recipe_to_yaml(r), "resolved.yaml");
  EXPECT_EQ(b.eval.subgroups, r.eval.subgroups);
  EXPECT_EQ(b.eval.subgroup_min_size, 50);
  // An identifying key fails when the recipe is read (before any training), with the reason.
  const std::string id = error_of("eval:\n  subgroups: [sex, PatientID]\n");
  EXPECT_NE(id.find("r.yaml: eval.subgroups PatientID: refused: a patient identifier identifies a person"),
            std::string::npos)
      << id;
  EXPECT_NE(error_of("", {"eval.subgroups=[(0010,0030)]"}).find("refused"), std::string::npos);
  EXPECT_NE(error_of("eval:\n  subgroups: sex\n").find("eval.subgroups: expected a list"), std::string::npos);
  EXPECT_NE(error_of("eval:\n  subgroup_min_size: 0\n").find("eval.subgroup_min_size: must be in"),
            std::string::npos);
}

}  // namespace
}  // namespace cxr
