variable "image_id" {
  type = string
}
