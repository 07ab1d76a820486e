#include "tests/io/layout_fixtures.h"

#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <fstream>
#include <stdexcept>

#include "io/image.h"
#include "io/png_io.h"

namespace cxr::test {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  path = fs::temp_directory_path() / ("cxr_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::remove_all(path);
  fs::create_directories(path);
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

void write_gzip(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  gzFile gz = gzopen(file.string().c_str(), "wb");
  if (!gz) throw std::runtime_error("cannot write " + file.string());
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
}

void write_tiny_png(const fs::path& file) {
  fs::create_directories(file.parent_path());
  Image img;
  img.width = 4;
  img.height = 4;
  img.pixels.assign(16, 0.5f);
  write_png(file.string(), img, 8);
}

std::string write_nih(const fs::path& root, bool official_lists, bool one_missing) {
  // The distributed header, trailing comma and all (12 fields).
  std::string csv =
      "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
      "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],\n"
      "00000001_000.png,Cardiomegaly,0,1,58,M,PA,2682,2749,0.143,0.143,\n"
      "00000001_001.png,Cardiomegaly|Emphysema,1,1,58,M,PA,2894,2729,0.143,0.143,\n"
      "00000002_000.png,No Finding,0,2,81,M,AP,2500,2048,0.171,0.171,\n"
      "00000003_000.png,Hernia,0,3,81,F,PA,2582,2991,0.143,0.143,\n"
      "00000004_000.png,Effusion|Mass,0,4,82,M,AP,2500,2048,0.168,0.168,\n";
  if (one_missing) csv += "00000005_000.png,Nodule,0,5,70,F,PA,2048,2500,0.168,0.168,\n";
  write_text(root / "Data_Entry_2017.csv", csv);
  write_tiny_png(root / "images_001/images/00000001_000.png");
  write_tiny_png(root / "images_001/images/00000001_001.png");
  write_tiny_png(root / "images_001/images/00000002_000.png");
  write_tiny_png(root / "images_002/images/00000003_000.png");
  write_tiny_png(root / "images_002/images/00000004_000.png");
  if (official_lists) {
    write_text(root / "train_val_list.txt",
               "00000001_000.png\n00000001_001.png\n00000002_000.png\n00000003_000.png\n00000005_000.png\n");
    write_text(root / "test_list.txt", "00000004_000.png\n");
  }
  return (root / "Data_Entry_2017.csv").string();
}

std::string write_chexpert(const fs::path& root) {
  const std::string header =
      "Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Opacity,"
      "Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,"
      "Fracture,Support Devices\n";
  const fs::path dir = root / "CheXpert-v1.0-small";
  //                                                            NF  EC Ca LO LL Ed   Co Pn  At  Px PE   PO Fr SD
  write_text(dir / "train.csv", header +
             "CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg,Female,68,Frontal,PA,,,1.0,,,-1.0,,0.0,,,,,,\n"
             "CheXpert-v1.0-small/train/patient00001/study1/view2_lateral.jpg,Female,68,Lateral,,,,,,,-1.0,,,1.0,,,,,\n"
             "CheXpert-v1.0-small/train/patient00002/study1/view1_frontal.jpg,Male,87,Frontal,AP,,,,,,,,,,,-1.0,,,1.0\n");
  write_text(dir / "valid.csv", header +
             "CheXpert-v1.0-small/valid/patient64541/study1/view1_frontal.jpg,Male,73,Frontal,PA,,,1.0,,,,,,,,,,,\n");
  for (const char* p : {"train/patient00001/study1/view1_frontal.jpg", "train/patient00001/study1/view2_lateral.jpg",
                        "train/patient00002/study1/view1_frontal.jpg", "valid/patient64541/study1/view1_frontal.jpg"})
    write_tiny_png(dir / p);
  return (dir / "train.csv").string();
}

std::string write_mimic(const fs::path& root) {
  // The distributed column order (alphabetical observations).
  write_text(root / "mimic-cxr-2.0.0-chexpert.csv",
             "subject_id,study_id,Atelectasis,Cardiomegaly,Consolidation,Edema,Enlarged Cardiomediastinum,Fracture,"
             "Lung Lesion,Lung Opacity,No Finding,Pleural Effusion,Pleural Other,Pneumonia,Pneumothorax,Support Devices\n"
             "10000032,50414267,1.0,,,-1.0,,,,,,,,,,\n"
             "10000033,50000001,,1.0,,,,,,,,,,,,\n"
             "10000034,50000002,,,,,,,,,,,,-1.0,,\n");
  write_gzip(root / "mimic-cxr-2.0.0-metadata.csv.gz",
             "dicom_id,subject_id,study_id,PerformedProcedureStepDescription,ViewPosition,Rows,Columns\n"
             "d1,10000032,50414267,CHEST (PA AND LAT),PA,3056,2544\n"
             "d2,10000032,50414267,CHEST (PA AND LAT),LATERAL,3056,2544\n"
             "d3,10000033,50000001,CHEST (PORTABLE AP),AP,2544,3056\n"
             "d4,10000034,50000002,CHEST (PA AND LAT),PA,3056,2544\n"
             "d5,10000035,59999999,CHEST (PA AND LAT),PA,3056,2544\n");
  write_text(root / "mimic-cxr-2.0.0-split.csv",
             "dicom_id,study_id,subject_id,split\n"
             "d1,50414267,10000032,train\nd2,50414267,10000032,train\nd3,50000001,10000033,validate\n"
             "d4,50000002,10000034,test\nd5,59999999,10000035,train\n");
  write_tiny_png(root / "files/p10/p10000032/s50414267/d1.jpg");
  write_tiny_png(root / "files/p10/p10000032/s50414267/d2.jpg");
  write_tiny_png(root / "files/p10/p10000033/s50000001/d3.jpg");
  write_tiny_png(root / "files/p10/p10000034/s50000002/d4.jpg");
  return (root / "mimic-cxr-2.0.0-chexpert.csv").string();
}

std::string write_rsna(const fs::path& root) {
  write_text(root / "stage_2_train_labels.csv",
             "patientId,x,y,width,height,Target\n"
             "0004cfab-14fd-4e49-80ba-63a80b6bddd6,,,,,0\n"
             "00436515-870c-4b36-a041-de91049b9ab4,264.0,152.0,213.0,379.0,1\n"
             "00436515-870c-4b36-a041-de91049b9ab4,562.0,152.0,256.0,453.0,1\n"
             "00322d4d-1c29-4943-afc9-b6754be640eb,,,,,0\n"
             "003d8fa0-6bf1-40ed-b54c-ac657f8495c5,,,,,0\n");
  for (const char* id : {"0004cfab-14fd-4e49-80ba-63a80b6bddd6", "00436515-870c-4b36-a041-de91049b9ab4",
                         "00322d4d-1c29-4943-afc9-b6754be640eb", "003d8fa0-6bf1-40ed-b54c-ac657f8495c5"})
    write_tiny_png(root / "stage_2_train_images" / (std::string(id) + ".dcm"));
  return (root / "stage_2_train_labels.csv").string();
}

}  // namespace cxr::test
