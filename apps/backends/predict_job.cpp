#include "backends/predict_job.h"

#include <iostream>

#include "semifer/eval/evaluate.h"
#include "semifer/eval/inputs.h"
#include "semifer/eval/submission.h"
#include "semifer/eval/videos.h"
#include "semifer/util/error.h"

namespace semifer::eval {

void PredictJob::validate() const {
  SEMIFER_CHECK(data.empty() != inputs.empty(),
                "predict: give either INPUT images/folders or --data CONFIG");
  SEMIFER_CHECK(!csv.empty() || !abaw.empty(),
                "predict: give --out CSV, --abaw DIR or both");
  options.validate();
}

PredictSummary run_predict_job(const PredictJob& job) {
  job.validate();
  const LoadedModel model =
      infer::load_model(job.checkpoint, job.options.network);
  const ImageSet images =
      job.data.empty()
          ? find_images(job.inputs)
          : load_split(job.data, job.split, model.card.classes, job.checkpoint);
  if (!job.abaw.empty()) {
    // Refuse what write_abaw_submission would refuse before spending time
    // on the predictions.
    std::vector<std::string> paths;
    paths.reserve(images.items.size());
    for (const auto& item : images.items)
      paths.push_back(images.dataset.describe(item));
    check_abaw_videos(group_videos(images.dataset, images.items), paths);
  }
  const Predictions p = predict(model, images, job.options);
  PredictSummary s;
  s.images = static_cast<int64_t>(p.paths.size());
  s.videos = static_cast<int64_t>(p.videos.size());
  s.non_frames = s.images;
  for (const auto& v : p.videos) s.non_frames -= v.rows.size();
  s.skipped = p.skipped;
  for (const std::string& w :
       {infer::near_chance_warning(model.card,
                                   infer::network_name(model.network)),
        one_class_warning(p.labels, p.classes)}) {
    if (!w.empty()) s.warnings.push_back(w);
  }
  if (job.csv == "-") {
    std::cout << predictions_csv(p) << std::flush;
  } else if (!job.csv.empty()) {
    write_predictions_csv(p, job.csv);
  }
  if (!job.abaw.empty()) s.abaw_files = write_abaw_submission(p, job.abaw);
  return s;
}

}  // namespace semifer::eval
