#pragma once

#include "semifer/data/source.h"

/// The format readers. Each turns one source's files into a SampleTable with
/// canonical labels (labels.h) and counts what it dropped; read_source()
/// dispatches on SourceConfig::format. docs/data.md describes each format.
namespace semifer::data {

/// Aff-Wild2 EXPR: <annotations>/<video>.txt + <images>/<video>/%05d.jpg.
ReadResult read_affwild2(const SourceConfig& config);
/// AffectNet training.csv / validation.csv (header row optional).
ReadResult read_affectnet(const SourceConfig& config);
/// ExpW label.lst; the face box is cropped at load time.
ReadResult read_expw(const SourceConfig& config);
/// RAF-DB list_patition_label.txt + <stem>_aligned.jpg.
ReadResult read_rafdb(const SourceConfig& config);
/// FER2013 csv (emotion,pixels,Usage) with inline 48x48 gray pixels.
ReadResult read_fer2013_csv(const SourceConfig& config);
/// FER+ label.csv: majority vote over 10 vote counts.
ReadResult read_ferplus(const SourceConfig& config);
/// Image folder: <root>/<class>/* or, flat, every image below root.
ReadResult read_folder(const SourceConfig& config);
/// CSV list of path,label with paths relative to root.
ReadResult read_csv_list(const SourceConfig& config);
/// MXNet RecordIO (InsightFace MS1MV2): train.rec + train.idx.
ReadResult read_recordio(const SourceConfig& config);

}  // namespace semifer::data
