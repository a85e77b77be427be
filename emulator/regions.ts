/** Regions a request may name even when the seed puts nothing there (an empty region is valid). */
export const KNOWN_REGIONS: readonly string[] = [
    "cn-hangzhou",
    "cn-shanghai",
    "cn-beijing",
    "cn-shenzhen",
    "cn-qingdao",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-chengdu",
    "cn-hongkong",
    "ap-southeast-1",
    "ap-southeast-5",
    "ap-northeast-1",
    "eu-central-1",
    "eu-west-1",
    "us-west-1",
    "us-east-1",
];
